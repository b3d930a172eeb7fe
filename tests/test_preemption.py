"""SIGTERM (and SIGUSR1, which SLURM can send before the limit) is a checkpoint: the run finishes its step, writes a
checkpoint and the state `preempted`, exits, and `run --resume` continues it gaplessly. And loading runs no code: a
checkpoint crafted to run a command when unpickled is refused by every command that reads checkpoints."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from groklab import api
from groklab.common.checkpoint import checkpoints
from tests.conftest import groklab_cli
from tests.test_resume import records, write_config


def wait_for_records(run_dir, count, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        history = run_dir / "history.jsonl"
        if history.exists() and len(history.read_text().splitlines()) >= count:
            return
        assert proc.poll() is None, f"the run ended before the signal:\n{proc.stderr.read()}"
        time.sleep(0.02)
    raise AssertionError("the run wrote too few records in time")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGUSR1], ids=["SIGTERM", "SIGUSR1"])
def test_a_stop_signal_checkpoints_the_step_and_the_resume_continues_gaplessly(tmp_path, tiny, stop):
    tiny["train"]["checkpoint_every"] = 100_000  # no checkpoint but the one the signal asks for
    config = write_config(tmp_path, tiny, steps=1500)
    reference = tmp_path / "reference"
    groklab_cli("run", "--config", str(config), "--out", str(reference), "--quiet", check=True)

    run_dir = tmp_path / "stopped"
    proc = subprocess.Popen([sys.executable, "-m", "groklab.cli", "run", "--config", str(config), "--out",
                             str(run_dir), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_records(run_dir, 20, proc)
    proc.send_signal(stop)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + stop.value, stderr  # what a shell reports for a stop by that signal
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "preempted" and status["signal"] == stop.name
    [checkpoint] = checkpoints(run_dir / "checkpoints")
    assert int(checkpoint.stem.removeprefix("step_")) == status["step"]  # the step it stopped at, not an old one
    assert 190 <= status["step"] < 1500
    assert f"preempted by {stop.name} at step {status['step']}, checkpoint written" in stderr
    [summary] = api.status(run_dir)
    assert summary.state.state == "preempted" and "resume with `groklab run --resume`" in summary.state.note

    groklab_cli("run", "--resume", str(run_dir), "--quiet", check=True)
    got, want = records(run_dir), records(reference)
    assert [r["step"] for r in got] == [r["step"] for r in want], "missing or repeated steps"
    assert got == want
    assert json.loads((run_dir / "status.json").read_text())["state"] == "completed"


class RunsACommand:
    """Unpickling this runs a shell command (what a crafted checkpoint would do)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


@pytest.fixture(scope="module")
def run_with_checkpoints(tmp_path_factory):
    """A finished run keeping its checkpoints and recording the embedding (which its figures draw from them)."""
    from tests.conftest import TINY

    folder = tmp_path_factory.mktemp("crafted")
    tiny = json.loads(json.dumps(TINY))
    tiny["train"].update(steps=100, checkpoint_every=50, keep_checkpoints_every=50)
    tiny["eval"]["probes"] = ["embedding"]
    config = write_config(folder, tiny, steps=100)
    groklab_cli("run", "--config", str(config), "--out", str(folder / "run"), "--quiet", check=True)
    return folder / "run"


def crafted_copy(run_dir, tmp_path):
    """A copy of the run whose newest checkpoint also holds an object that runs a command when unpickled."""
    copy = tmp_path / "copied"
    shutil.copytree(run_dir, copy)
    newest = checkpoints(copy / "checkpoints")[-1]
    state = torch.load(newest, weights_only=True)
    state["model"]["extra"] = RunsACommand(tmp_path / "code-ran")
    torch.save(state, newest)
    return copy, newest


@pytest.mark.parametrize("command", ["run --resume", "plot --measure embedding", "plot --measure cka_final",
                                     "analyze", "run train.mask.source"])
def test_a_crafted_checkpoint_is_refused_by_every_command_that_reads_one_and_runs_nothing(
        run_with_checkpoints, tmp_path, command):
    copy, crafted = crafted_copy(run_with_checkpoints, tmp_path)
    if command == "run --resume":  # a run killed before its end: the resume reads the newest checkpoint
        status = json.loads((copy / "status.json").read_text())
        (copy / "status.json").write_text(json.dumps({**status, "state": "failed"}))
        proc = groklab_cli("run", "--resume", str(copy), "--quiet")
    elif command == "run train.mask.source":  # a ticket: the mask is read from the dense run's checkpoint
        proc = groklab_cli("run", "--config", str(copy / "config.yaml"), "--out", str(tmp_path / "ticket"),
                           "--quiet", "train.mask.kind=magnitude", "train.mask.density=0.5",
                           f"train.mask.source={copy}")
    elif command == "analyze":
        proc = groklab_cli("analyze", str(copy))
    else:
        proc = groklab_cli(*command.split()[:1], str(copy), *command.split()[1:])
    assert not (tmp_path / "code-ran").exists(), "loading the checkpoint ran its command"
    assert "Traceback" not in proc.stderr
    message = " ".join(proc.stderr.split())
    assert f"{crafted} is refused: it holds Python objects that loading would build or run" in message, message
    assert "unsupported GLOBAL posix.system" in message and "nothing in it was run" in message
    if command == "analyze":  # the figures from the history are drawn; those from checkpoints say why not
        assert proc.returncode == 0 and "figures from checkpoints not drawn" in message
    else:
        assert proc.returncode == 2


def test_a_checkpoint_written_by_the_earlier_code_still_resumes(tmp_path, tiny):
    """Before, checkpoints were written with torch.save into the open file and read back unrestricted; the same
    bytes load under the weights-only loader, and the resume equals an uninterrupted run."""
    tiny["train"].update(checkpoint_every=100, keep_checkpoints_every=100)
    config = write_config(tmp_path, tiny, steps=200)
    reference, old = tmp_path / "reference", tmp_path / "old"
    groklab_cli("run", "--config", str(config), "--out", str(reference), "--quiet", check=True)
    groklab_cli("run", "--config", str(config), "--out", str(old), "--quiet", check=True)
    middle, last = checkpoints(old / "checkpoints")
    last.unlink()  # as if killed at step 160, after the checkpoint of step 100
    state = torch.load(middle, weights_only=False)
    with open(middle, "wb") as handle:  # exactly as the earlier save_checkpoint wrote it
        torch.save(state, handle)
    status = json.loads((old / "status.json").read_text())
    (old / "status.json").write_text(json.dumps({**status, "state": "failed"}))
    lines = (old / "history.jsonl").read_text().splitlines()
    (old / "history.jsonl").write_text("\n".join(lines[:17]) + "\n")  # records to step 160: those past 100 redone
    groklab_cli("run", "--resume", str(old), "--quiet", check=True)
    assert records(old) == records(reference)
