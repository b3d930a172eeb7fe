"""--executor slurm against a real one-node SLURM cluster (scripts/slurm-cluster.sh brings it up).

Without root or apt-get the cluster cannot be brought up and these tests skip with the reason; under CI=true
they must run, so there the same condition fails them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from groklab import api
from groklab.config import ConfigError
from groklab.launch.slurm import SlurmResources, job_states, require_scheduler, time_limit_min
from tests.conftest import groklab_cli
from tests.test_resume import records, write_config

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "slurm-cluster.sh"


def test_time_limit_comes_from_the_estimate_or_refuses_a_short_one():
    assert time_limit_min(600, SlurmResources(), "run") == 17  # 10 min x 1.5 + 2
    assert time_limit_min(600, SlurmResources(time_min=30), "run") == 30
    with pytest.raises(ConfigError, match=r"at least 17 min"):
        time_limit_min(600, SlurmResources(time_min=5), "run")


def test_missing_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    with pytest.raises(ConfigError, match="sbatch, squeue, sacct, scancel.*--executor local"):
        require_scheduler()


@pytest.fixture(scope="module")
def cluster():
    """A running one-node cluster: brought up here (and torn down after) unless one already answers."""
    if shutil.which("sinfo") and subprocess.run(["sinfo", "-h"], capture_output=True).returncode == 0:
        yield
        return
    reason = None
    if os.geteuid() != 0:
        reason = "bringing up SLURM needs root"
    elif not shutil.which("apt-get") and not shutil.which("slurmctld"):
        reason = "slurm-wlm is not installed and apt-get is missing"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the SLURM tests, but {reason}")
        pytest.skip(reason)
    subprocess.run([str(SCRIPT), "up"], check=True, timeout=600)
    yield
    subprocess.run([str(SCRIPT), "down"], check=False, timeout=60)


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def job_id_of(run_dir: Path) -> str:
    return json.loads((run_dir / "slurm.json").read_text())["job_id"]


def test_run_through_slurm_is_analyzed_and_shown_by_status(cluster, tmp_path, tiny):
    config = write_config(tmp_path, tiny, steps=300)
    run_dir = tmp_path / "run"
    proc = groklab_cli("run", "--config", str(config), "--out", str(run_dir), "--executor", "slurm", "--wait",
                       check=True)
    job_id = job_id_of(run_dir)
    assert f"submitted job {job_id}: {run_dir}" in proc.stdout and f"job {job_id}: COMPLETED" in proc.stdout
    assert "estimated" in proc.stdout and "time limit" in proc.stdout
    analysis = json.loads((run_dir / "analysis.json").read_text())
    assert analysis["state"] == "completed" and analysis["final"]["train_acc"] > 0.5  # chance is 1/23
    [summary] = api.status(run_dir)
    assert summary.job.job_id == job_id and summary.job.state == "COMPLETED"
    assert summary.state.state == "completed"


def test_sweep_through_slurm_is_one_job_array(cluster, tmp_path):
    sweep_dir = tmp_path / "sweep"
    grid = ["doshi2024_polynomials", "optim.weight_decay=0.5,1.0", "train.steps=100", "--out", str(sweep_dir),
            "--executor", "slurm"]
    proc = groklab_cli("sweep", *grid, "--wait", check=True)
    points = sorted(p for p in sweep_dir.iterdir() if (p / "config.yaml").is_file())
    assert [p.name for p in points] == ["optim.weight_decay=0.5-s0", "optim.weight_decay=1.0-s0"]
    job_ids = [job_id_of(p) for p in points]
    assert len({j.split("_")[0] for j in job_ids}) == 1 and all("_" in j for j in job_ids), job_ids  # one array
    summary = json.loads((sweep_dir / "sweep_summary.json").read_text())
    assert [r["state"] for r in summary["points"]] == ["completed", "completed"]
    assert f"sweep: {sweep_dir}" in proc.stdout
    again = groklab_cli("sweep", *grid, check=True)
    assert "2 finished, 0 to submit" in again.stdout  # nothing is run twice


def test_requeued_job_resumes_its_folder_without_gaps(cluster, tmp_path, tiny):
    """SIGUSR2 is what SLURM sends before the time limit (and on preemption): the run checkpoints the step it is
    at, submitit requeues the job, and the new start resumes the same folder; the history equals an uninterrupted
    run."""
    config = write_config(tmp_path, tiny, steps=3000)
    reference = tmp_path / "reference"
    groklab_cli("run", "--config", str(config), "--out", str(reference), "--quiet", check=True)
    run_dir = tmp_path / "requeued"
    groklab_cli("run", "--config", str(config), "--out", str(run_dir), "--executor", "slurm", check=True)
    job_id = job_id_of(run_dir)

    def past_a_checkpoint():
        ckpts = list((run_dir / "checkpoints").glob("step_*.pt")) if (run_dir / "checkpoints").is_dir() else []
        status = json.loads((run_dir / "status.json").read_text())
        return ckpts and (status.get("step") or 0) > 300

    wait_until(past_a_checkpoint, 180, "the job to train past a checkpoint")
    subprocess.run(["scancel", "--signal=USR2", job_id], check=True)
    wait_until(lambda: job_states([job_id])[job_id].state == "PENDING", 60, "the job to be requeued")
    [summary] = api.status(run_dir)  # the step it was at when the signal came is checkpointed
    assert summary.state.state == "preempted" and summary.job.state == "PENDING"
    assert "stopped by SIGUSR2 with a checkpoint at step" in summary.state.note
    assert f"step_{summary.state.step:09d}.pt" in [p.name for p in (run_dir / "checkpoints").glob("step_*.pt")]
    subprocess.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"], check=True)  # skip the requeue delay
    wait_until(lambda: job_states([job_id])[job_id].state == "COMPLETED", 300, "the resumed job to complete")

    show = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True).stdout
    assert "Restarts=1" in show
    got, want = records(run_dir), records(reference)
    assert [r["step"] for r in got] == [r["step"] for r in want], "missing or repeated steps"
    assert got == want
    assert json.loads((run_dir / "status.json").read_text())["state"] == "completed"


def test_cancel_stops_the_job_with_a_checkpoint_and_the_resume_finishes_it_gaplessly(cluster, tmp_path, tiny):
    """scancel is SIGTERM to the job (as the time limit and a preemption are): the run checkpoints the step it is
    at, says `preempted`, and a resume continues from that step."""
    tiny["train"]["checkpoint_every"] = 100_000  # no checkpoint but the one SIGTERM asks for
    config = write_config(tmp_path, tiny, steps=6000)
    reference = tmp_path / "reference"
    groklab_cli("run", "--config", str(config), "--out", str(reference), "--quiet", check=True)
    run_dir = tmp_path / "cancelled"
    groklab_cli("run", "--config", str(config), "--out", str(run_dir), "--executor", "slurm", check=True)
    job_id = job_id_of(run_dir)
    wait_until(lambda: (json.loads((run_dir / "status.json").read_text()).get("step") or 0) >= 100, 120,
               "the job to train")
    proc = groklab_cli("cancel", str(tmp_path), check=True)
    assert f"cancelled job {job_id}: {run_dir}" in proc.stdout
    wait_until(lambda: job_states([job_id])[job_id].state == "CANCELLED", 60, "the job to be cancelled")
    wait_until(lambda: json.loads((run_dir / "status.json").read_text())["state"] == "preempted", 60,
               "the run to checkpoint")
    [summary] = api.status(run_dir)
    assert summary.state.state == "preempted" and summary.job.state == "CANCELLED"
    assert "stopped by SIGTERM with a checkpoint at step" in summary.state.note
    [checkpoint] = (run_dir / "checkpoints").glob("step_*.pt")
    assert int(checkpoint.stem.removeprefix("step_")) == summary.state.step >= 100

    groklab_cli("run", "--resume", str(run_dir), "--quiet", check=True)
    got, want = records(run_dir), records(reference)
    assert [r["step"] for r in got] == [r["step"] for r in want], "missing or repeated steps"
    assert got == want


def test_too_short_time_limit_is_refused_before_submitting(cluster, tmp_path, tiny):
    config = write_config(tmp_path, tiny, steps=2_000_000)
    run_dir = tmp_path / "never"
    proc = groklab_cli("run", "--config", str(config), "--out", str(run_dir), "--executor", "slurm", "--time", "1")
    assert proc.returncode == 2
    assert "--time 1 min is shorter" in proc.stderr and "calibration estimates" in proc.stderr
    assert not run_dir.exists()


def test_refused_submission_is_a_clear_error_and_leaves_no_folder(cluster, tmp_path, tiny):
    config = write_config(tmp_path, tiny, steps=300)
    run_dir = tmp_path / "refused"
    proc = groklab_cli("run", "--config", str(config), "--out", str(run_dir), "--executor", "slurm",
                       "--partition", "nosuch")
    assert proc.returncode == 2
    assert "sbatch refused the submission: Batch job submission failed: Invalid partition" in proc.stderr
    assert "Traceback" not in proc.stderr and not run_dir.exists()  # the same --out works on the next try


SUITE = ["levi2023_linear", "doshi2024_polynomials", "train.steps=40"]


def test_a_suite_on_slurm_survives_its_killed_driver_and_resubmits_only_what_was_cancelled(cluster, tmp_path):
    """The driver (the command on the login node) is killed once the suite's jobs are submitted, the jobs are
    cancelled: the same command again submits only the runs that did not finish, waits for them and writes the
    report."""
    out = tmp_path / "suite"
    command = [sys.executable, "-m", "groklab.cli", "suite", *SUITE, "--out", str(out), "--executor", "slurm", "--wait"]
    names = SUITE[:2]
    driver = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: all((out / name / "slurm.json").is_file() for name in names), 240, "the suite's submission")
    driver.kill()
    driver.wait()
    first = {name: job_id_of(out / name) for name in names}
    assert len({job.split("_")[0] for job in first.values()}) == 1  # one array
    subprocess.run(["scancel", *first.values()], check=True)
    wait_until(lambda: not any(s.active for s in job_states(list(first.values())).values()), 60, "the cancel")
    finished = [name for name in names if json.loads((out / name / "status.json").read_text())["state"] == "completed"]

    proc = groklab_cli(*command[3:], check=True)
    assert f"2 runs, 0 queued or running, {len(finished)} finished, {2 - len(finished)} to submit" in proc.stdout
    for name in names:
        assert json.loads((out / name / "status.json").read_text())["state"] == "completed"
        assert (job_id_of(out / name) == first[name]) == (name in finished)  # a finished run is not run again
        assert f"\n{name:23s}" in proc.stdout
    assert (out / "report" / "report.md").is_file()


def test_tickets_on_slurm_wait_for_the_dense_run_then_submit_the_ticket(cluster, tmp_path):
    out = tmp_path / "tickets"
    command = ["tickets", "minegishi2023_tickets", "train.steps=30", "train.checkpoint_every=10", "eval.every=10",
               "--density", "0.3", "--out", str(out), "--executor", "slurm", "--quiet"]
    proc = groklab_cli(*command, check=True)  # the second stage is built from the first: that one is waited for
    assert "dense and random mask: 2 runs, 0 queued or running, 0 finished, 2 to submit" in proc.stdout
    assert "ticket and matched norm: 2 runs, 0 queued or running, 0 finished, 2 to submit" in proc.stdout
    assert "are on SLURM: `groklab status` follows them" in proc.stdout
    arrays = {name: job_id_of(out / name).split("_")[0] for name in api.TICKET_RUNS}
    assert arrays["dense"] == arrays["random_mask"] != arrays["ticket"] == arrays["dense_matched_norm"]
    done = groklab_cli(*command, "--wait", check=True)
    assert "dense and random mask: 2 runs, 0 queued or running, 2 finished, 0 to submit" in done.stdout
    assert "dense_matched_norm" in done.stdout and f"tickets: {out}" in done.stdout
    assert json.loads((out / "tickets_summary.json").read_text())["outcomes"].keys() == set(api.TICKET_RUNS)


def test_the_speedup_table_on_slurm(cluster, tmp_path):
    out = tmp_path / "speedup"
    proc = groklab_cli("speedup", "levi2023_linear", "--accelerators", "grokfast_ema", "--seeds", "2", "--out",
                       str(out), "--executor", "slurm", "--wait", "--quiet", check=True)
    assert "4 runs, 0 queued or running, 0 finished, 4 to submit" in proc.stdout
    runs = sorted(p.parent.relative_to(out) for p in out.rglob("slurm.json"))
    assert [str(r) for r in runs] == ["levi2023_linear/baseline/s0", "levi2023_linear/baseline/s1",
                                      "levi2023_linear/grokfast_ema/s0", "levi2023_linear/grokfast_ema/s1"]
    assert "levi2023_linear" in proc.stdout and f"results: {out}" in proc.stdout
