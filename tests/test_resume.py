"""A run killed with SIGKILL mid-training and resumed equals an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time

import yaml

from groklab import api
from groklab.config import validate_config
from tests.conftest import groklab_cli

COMPARED = ("step", "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "param_norm", "lr")


def records(run_dir):
    lines = (run_dir / "history.jsonl").read_text().splitlines()
    return [{k: r.get(k) for k in COMPARED} for r in map(json.loads, lines)]


def write_config(tmp_path, tiny, steps):
    tiny["train"]["steps"] = steps
    validate_config(tiny)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny))
    return path


def wait_for_checkpoint_then_kill(proc, run_dir, timeout=120):
    """SIGKILL the run once it has a checkpoint and has written records after it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ckpts = list((run_dir / "checkpoints").glob("step_*.pt"))
        history = run_dir / "history.jsonl"
        if ckpts and history.exists():
            ckpt_step = int(ckpts[0].stem.removeprefix("step_"))
            steps = [json.loads(line)["step"] for line in history.read_text().splitlines() if line.endswith("}")]
            if steps and steps[-1] > ckpt_step:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return ckpt_step, steps[-1]
        if proc.poll() is not None:
            raise AssertionError(f"run ended before it could be killed:\n{proc.stderr.read()}")
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("no checkpoint appeared in time")


def test_sigkill_and_resume_equals_uninterrupted_run(tmp_path, tiny):
    config = write_config(tmp_path, tiny, steps=1500)
    reference = tmp_path / "reference"
    groklab_cli("run", "--config", str(config), "--out", str(reference), "--quiet", check=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "groklab.cli", "run", "--config", str(config), "--out", str(killed), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    ckpt_step, last_written = wait_for_checkpoint_then_kill(proc, killed)
    assert 0 < ckpt_step < 1500 and last_written > ckpt_step
    status = json.loads((killed / "status.json").read_text())
    assert status["state"] == "running"  # a killed run never got to say otherwise...
    [summary] = api.status(killed)
    assert summary.state.state == "stopped" and "resume" in summary.state.note  # ...but status sees through it
    assert summary.outcome == "incomplete"

    assert f"pid {proc.pid} on" in (killed / "owner.lock").read_text()  # the killed owner never released it
    resumed = groklab_cli("run", "--resume", str(killed), "--quiet", check=True)
    assert resumed.stdout.strip().splitlines()[-1] == str(killed)
    assert f"taking over {killed} from pid {proc.pid}" in resumed.stderr
    assert (killed / "owner.lock").read_text() == ""  # released when the resumed run ended

    got, want = records(killed), records(reference)
    steps = [r["step"] for r in got]
    assert steps == sorted(set(steps)), "duplicated or unordered steps"
    assert steps == [r["step"] for r in want], "missing steps"
    assert got == want  # bit-identical metrics: RNG, optimizer state and batch order restored
    assert json.loads((killed / "status.json").read_text())["state"] == "completed"


def test_resume_without_checkpoint_restarts_cleanly(tmp_path, tiny):
    config = write_config(tmp_path, tiny, steps=60)
    run_dir = tmp_path / "run"
    groklab_cli("run", "--config", str(config), "--out", str(run_dir), "--quiet", check=True)
    for ckpt in (run_dir / "checkpoints").glob("*.pt"):
        ckpt.unlink()
    status = json.loads((run_dir / "status.json").read_text())
    (run_dir / "status.json").write_text(json.dumps({**status, "state": "running", "pid": 2**22 + 1}))
    before = records(run_dir)
    groklab_cli("run", "--resume", str(run_dir), "--quiet", check=True)
    assert records(run_dir) == before


def test_resuming_a_completed_run_changes_nothing(tmp_path, tiny):
    config = write_config(tmp_path, tiny, steps=60)
    run_dir = tmp_path / "run"
    groklab_cli("run", "--config", str(config), "--out", str(run_dir), "--quiet", "train.stop_at_test_acc=0.01",
                check=True)
    before = (run_dir / "history.jsonl").read_bytes()
    groklab_cli("run", "--resume", str(run_dir), "--quiet", check=True)
    assert (run_dir / "history.jsonl").read_bytes() == before


def test_a_second_process_cannot_train_a_folder_that_is_being_trained(tmp_path, tiny):
    config = write_config(tmp_path, tiny, steps=3000)
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "groklab.cli", "run", "--config", str(config), "--out", str(run_dir), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while not (run_dir / "history.jsonl").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    second = groklab_cli("run", "--resume", str(run_dir), "--quiet")
    first_done = proc.poll() is not None
    proc.wait(timeout=300)
    assert not first_done, "the first run ended before the second one started: lengthen it"
    assert second.returncode == 2, second.stderr
    assert "being trained by another process" in second.stderr and f"pid {proc.pid}" in second.stderr
    assert proc.returncode == 0, proc.stderr
    steps = [r["step"] for r in records(run_dir)]
    assert steps == sorted(set(steps)) and steps[-1] == 3000  # one writer: no duplicated or missing records
    assert json.loads((run_dir / "status.json").read_text())["state"] == "completed"
