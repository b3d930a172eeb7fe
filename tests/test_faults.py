"""Every write is a fault point: for each file a run, an import, a report or a sweep writes, a full disk (ENOSPC), an
I/O error (EIO), a read-only file system (EROFS) and SIGKILL just before and just after the write (real processes)
are injected at the operating-system calls (tests/faults.py). Each must stop the command with a message naming the
file, the cause and the fix (exit 2), leave everything written before whole, and once the fault is gone the same
command (or `run --resume`) must finish with the history an unfaulted run writes.

Where this runs as root (CI), a real small file system (tmpfs) is also filled up and mounted read-only."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from groklab.cli import app
from groklab.common.checkpoint import load_checkpoint
from tests.faults import ERRORS, KINDS, Fault, killed_cli
from tests.test_resume import records, write_config

CAUSES = {"ENOSPC": "the file system is full (ENOSPC)", "EIO": "the storage reported an input/output error (EIO)",
          "EROFS": "the file system is read-only (EROFS)"}
# the files a run writes, and which of their writes is struck (a later one where there are several: something
# was written before it that must stay whole)
RUN_WRITES = {"config.yaml": 1, "owner.lock": 1, "status.json": 3, "history.jsonl": 4, "step_*.pt": 2,
              "analysis.json": 1, "training_history.json": 1, "curves.png": 1}
AFTER_TRAINING = ("analysis.json", "training_history.json", "curves.png")
TEMPORARY = re.compile(r"^\..+\.\d+-\d+\.tmp$")


def invoke(*args: str | Path) -> tuple[int, str]:
    """The CLI in this process: (exit code, stdout and stderr)."""
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def faulted(root: Path, name: str, occurrence: int, kind: str, *args: str | Path) -> tuple[int, str]:
    """Run the CLI with the fault: in this process for an error, in a real process that is SIGKILLed for a kill."""
    if kind in ERRORS:
        fault = Fault(root, name, occurrence, kind)
        fault.install()
        try:
            code, output = invoke(*args)
        finally:
            fault.uninstall()
        assert fault.struck, f"the fault at write {occurrence} of {name} was never reached"
        return code, output
    log = root.with_name(f"{root.name}-killed.log")
    code, output = killed_cli(Fault(root, name, occurrence, kind), [str(a) for a in args], log)
    assert code is not None, f"the killed command ran past its time limit:\n{output}"
    return code, output


def assert_refused_naming(code: int, output: str, path_pattern: str, kind: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output
    message = " ".join(output.split())  # rich folds long lines
    assert re.search(rf"error: could not write {path_pattern}: {re.escape(CAUSES[kind])}", message), message


def assert_whole(run_dir: Path, reference: list[dict], config_text: str) -> None:
    """What the faulted command wrote before the fault is intact: no half file under any final name."""
    if (run_dir / "config.yaml").exists():
        assert (run_dir / "config.yaml").read_text() == config_text
    if (run_dir / "history.jsonl").exists():
        got = records(run_dir)  # every line parses: a failed append was cut back
        assert got == reference[:len(got)]
    if (run_dir / "status.json").exists():
        json.loads((run_dir / "status.json").read_text())
    for checkpoint in (run_dir / "checkpoints").glob("step_*.pt"):
        load_checkpoint(checkpoint, torch.device("cpu"))
    for name in ("analysis.json", "training_history.json"):
        if (run_dir / name).exists():
            json.loads((run_dir / name).read_text())


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, request):
    """A tiny config (60 steps, 7 records, 3 checkpoints) and what an unfaulted run of it writes."""
    from tests.conftest import TINY

    folder = tmp_path_factory.mktemp("reference")
    tiny = json.loads(json.dumps(TINY))
    tiny["train"]["checkpoint_every"] = 20
    config = write_config(folder, tiny, steps=60)
    code, output = invoke("run", "--config", config, "--out", folder / "run", "--quiet")
    assert code == 0, output
    outcome = json.loads((folder / "run" / "analysis.json").read_text())["outcome"]
    return config, records(folder / "run"), (folder / "run" / "config.yaml").read_text(), outcome


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", RUN_WRITES)
def test_a_fault_at_any_write_of_a_run_loses_nothing_and_the_resume_finishes_it(tiny_run, tmp_path, name, kind):
    config, reference, config_text, reference_outcome = tiny_run
    run_dir = tmp_path / "run"
    code, output = faulted(tmp_path, name, RUN_WRITES[name], kind, "run", "--config", config, "--out", run_dir,
                           "--quiet")
    status = json.loads((run_dir / "status.json").read_text()) if (run_dir / "status.json").exists() else {}
    if kind in ERRORS:
        where = re.escape(str(run_dir)) + r"/(checkpoints/|figures/)?" + name.replace("*", r"\d+").replace(".", r"\.")
        assert_refused_naming(code, output, where, kind)
        assert not [p for p in run_dir.rglob(".*") if TEMPORARY.match(p.name)], "a temporary file was left"
        message = " ".join(output.split())
        if name == "config.yaml":  # the folder is left empty, for the same command again
            assert not any(run_dir.iterdir()) and "then run the same command again" in message
        elif name in AFTER_TRAINING:  # the training itself is complete; only its analysis is missing
            assert status["state"] == "completed" and f"then `groklab analyze {run_dir}` writes" in message
        elif kind == "EROFS":  # nothing can be written any more: status.json stays as it was
            assert status.get("state") in (None, "queued", "running")
        else:
            assert status["state"] == "failed" and CAUSES[kind] in status["error"]
            assert f"then `groklab run --resume {run_dir}` continues" in message
    else:
        assert code == -9, output  # SIGKILLed at the write
    assert_whole(run_dir, reference, config_text)

    again = ("run", "--resume", run_dir) if (run_dir / "config.yaml").exists() else \
        ("run", "--config", config, "--out", run_dir)  # nothing of the run was written: start it again
    code, output = invoke(*again, "--quiet")
    assert code == 0, output
    got = records(run_dir)
    assert [r["step"] for r in got] == [r["step"] for r in reference], "missing or repeated steps"
    assert got == reference  # bit-identical: RNG, optimizer state and batch order restored
    assert json.loads((run_dir / "status.json").read_text())["state"] == "completed"
    assert json.loads((run_dir / "analysis.json").read_text())["outcome"] == reference_outcome
    assert (run_dir / "figures" / "curves.png").stat().st_size > 1000


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


SWEEP = ("sweep", "03", "optim.weight_decay=0.5,1", "task.p=23", "model.d_model=32", "model.n_heads=2",
         "model.d_mlp=64", "train.steps=60", "eval.every=10", "eval.probes=[]", "train.checkpoint_every=20")
# file -> (the command that writes it, given the test's folder; the struck write)
STUDY_WRITES = {
    "sweep.json": (lambda d: (*SWEEP, "--out", d / "sweep"), 1),
    "sweep_summary.json": (lambda d: (*SWEEP, "--out", d / "sweep"), 1),
    "*-phases.png": (lambda d: (*SWEEP, "--out", d / "sweep"), 1),
    "report.md": (lambda d: ("report", d / "runs", "--out", d / "report"), 1),
    "report.html": (lambda d: ("report", d / "runs", "--out", d / "report"), 1),
    "imported history.jsonl": (lambda d: ("import", "csv", d / "log.csv", "--out", d / "imported"), 3),
    "source.json": (lambda d: ("import", "csv", d / "log.csv", "--out", d / "imported"), 1),
}


@pytest.fixture(scope="module")
def study_inputs(tiny_run, tmp_path_factory):
    """What the study commands read (a folder of runs, a CSV log) and what each writes unfaulted."""
    folder = tmp_path_factory.mktemp("inputs")
    config = tiny_run[0]
    assert invoke("run", "--config", config, "--out", folder / "runs" / "a", "--quiet")[0] == 0
    rows = ["step,train_loss,train_acc,test_loss,test_acc"] + [
        f"{s},{3 / (1 + s)},{min(1, s / 50)},{3.2 / (1 + s)},{min(1, s / 200)}" for s in range(0, 400, 20)]
    (folder / "log.csv").write_text("\n".join(rows) + "\n")
    unfaulted = {}  # command -> the folder it wrote unfaulted
    for command, _ in STUDY_WRITES.values():
        target = tmp_path_factory.mktemp("unfaulted")
        if command(target)[0] not in unfaulted:
            shutil.copytree(folder, target, dirs_exist_ok=True)
            code, output = invoke(*command(target))
            assert code == 0, output
            unfaulted[command(target)[0]] = target
    return folder, unfaulted


def results_of(folder: Path, name: str) -> object:
    """What the command writing `name` produced, comparable between runs (no times or folder names)."""
    if name.startswith("sweep") or name.endswith(".png"):
        summary = json.loads((folder / "sweep" / "sweep_summary.json").read_text())
        return [(p["point"], p.get("outcome")) for p in summary["points"]], [records(p) for p in
                                                                           sorted((folder / "sweep").glob("optim*"))]
    if name.startswith("report"):
        return sorted(p.name for p in (folder / "report").iterdir())
    return records(folder / "imported"), json.loads((folder / "imported" / "source.json").read_text())["columns"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", STUDY_WRITES)
def test_a_fault_at_any_write_of_a_study_report_or_import_loses_nothing_and_the_same_command_finishes_it(
        study_inputs, tmp_path, name, kind):
    inputs, unfaulted = study_inputs
    shutil.copytree(inputs, tmp_path, dirs_exist_ok=True)
    command, occurrence = STUDY_WRITES[name]
    read = {k: v for k, v in snapshot(tmp_path).items() if k.startswith("runs/") or k == "log.csv"}
    code, output = faulted(tmp_path, name.split()[-1], occurrence, kind, *command(tmp_path))
    if kind in ERRORS:
        written = re.escape(name.split()[-1]).replace(r"\*", r"\S*")
        assert_refused_naming(code, output, rf"{re.escape(str(tmp_path))}/\S*{written}", kind)
        assert not [p for p in tmp_path.rglob(".*") if TEMPORARY.match(p.name)], "a temporary file was left"
    else:
        assert code == -9, output
    assert {k: v for k, v in snapshot(tmp_path).items() if k in read} == read  # what it read is unchanged
    if name.split()[-1] in ("history.jsonl", "source.json"):  # an imported run appears whole or not at all
        assert not (tmp_path / "imported").exists()
    for summary in tmp_path.rglob("*.json"):
        json.loads(summary.read_text())  # nothing half written under a final name

    code, output = invoke(*command(tmp_path))  # the fault is gone: the same command again
    assert code == 0, output
    assert results_of(tmp_path, name) == results_of(unfaulted[command(tmp_path)[0]], name)
