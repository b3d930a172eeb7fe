"""Local sweeps: grid parsing, validation before work, and a killed sweep resumed without redoing points."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from groklab import api
from groklab.common.run_folder import point_state
from groklab.config import ConfigError
from groklab.studies.sweeps import SweepSpec, parse_grid
from tests.conftest import groklab_cli

# Linear teacher-student points train in a few seconds each: the cheapest real runs we have.
LEVI = "levi2023_linear"


def test_parse_grid_splits_axes_and_fixed_overrides():
    grid, fixed = parse_grid(["optim.lr=1e-3,3e-3", "train.steps=50", "optim.betas=[0.9,0.98]"])
    assert grid == {"optim.lr": ["1e-3", "3e-3"]}
    assert fixed == ["train.steps=50", "optim.betas=[0.9,0.98]"]


@pytest.mark.parametrize("bad", ["optim.lr", "=1,2", "optim.lr="])
def test_parse_grid_rejects_malformed_axes(bad):
    with pytest.raises(ConfigError, match="key=v1,v2"):
        parse_grid([bad])


def test_points_cover_grid_times_seeds_with_distinct_names():
    spec = SweepSpec(LEVI, "quick", {"a.b": ["1", "2"], "c.d": ["x", "y", "z"]}, seeds=[0, 1])
    names = [p.name for p in spec.points()]
    assert len(names) == len(set(names)) == 12
    assert "a.b=2,c.d=z-s1" in names


def test_bad_point_is_reported_before_anything_runs(tmp_path):
    with pytest.raises(ConfigError) as err:
        api.sweep(LEVI, ["task.n_train=300,100", "optim.lrr=1"], out=tmp_path / "sw")
    text = str(err.value)
    assert "optim.lrr" in text and "Did you mean 'optim.lr'" in text
    assert not (tmp_path / "sw").exists()


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "sweeps" / "lambda"
    return api.sweep(LEVI, ["task.n_train=400,2000", "train.steps=80"], out=out, report_line=lambda line: None)


def test_a_different_grid_in_the_same_folder_is_refused(small_sweep):
    with pytest.raises(FileExistsError, match="different sweep"):
        api.sweep(LEVI, ["task.n_train=400,1000", "train.steps=80"], out=small_sweep.sweep_dir)


def test_a_point_trained_by_another_preset_version_is_refused_not_reused(small_sweep, tmp_path):
    copy = tmp_path / "lambda"
    shutil.copytree(small_sweep.sweep_dir, copy)
    point = copy / "task.n_train=400-s0"
    saved = point / "config.yaml"
    stamps = {h: h.stat().st_mtime_ns for h in copy.rglob("history.jsonl")}
    assert "device: auto" in saved.read_text()
    saved.write_text(saved.read_text().replace("device: auto", "device: cpu"))  # where it ran: reused
    api.sweep(LEVI, ["task.n_train=400,2000", "train.steps=80"], out=copy, report_line=lambda line: None)
    assert {h: h.stat().st_mtime_ns for h in copy.rglob("history.jsonl")} == stamps
    version = api.get_preset(LEVI).version
    saved.write_text(saved.read_text().replace(f"preset_version: {version}", f"preset_version: {version - 1}"))
    with pytest.raises(FileExistsError, match=rf"task.n_train=400-s0 was trained with a different config "
                                              rf"\(preset_version: {version - 1} -> {version}\).*choose another --out"):
        api.sweep(LEVI, ["task.n_train=400,2000", "train.steps=80"], out=copy, report_line=lambda line: None)
    assert {h: h.stat().st_mtime_ns for h in copy.rglob("history.jsonl")} == stamps  # nothing retrained


def test_report_shows_a_sweep_as_one_section_not_as_loose_runs(small_sweep, tmp_path):
    runs_dir = small_sweep.sweep_dir.parent.parent
    md, page = api.report(runs_dir, tmp_path / "report")
    text = md.read_text()
    assert "### Sweep lambda: measured vs predicted grokking time over lambda" in text
    assert "median relative error" in text
    assert "| task.n_train=400-s0 |" not in text  # points are rows of the sweep table, not runs of their own
    assert (tmp_path / "report" / "figures" / "lambda-phases.png").is_file()
    assert (tmp_path / "report" / "figures" / "lambda-predicted.png").is_file()
    assert "lambda-predicted.png" in text and "data:image/png;base64" in page.read_text()


def test_killed_sweep_resumes_without_redoing_finished_points(tmp_path):
    out = tmp_path / "sw"
    args = ["sweep", LEVI, "task.n_train=2000,250,1000", "train.steps=400", "train.checkpoint_every=50",
            "--workers", "1", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "groklab.cli", *args], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first, second = out / "task.n_train=2000-s0", out / "task.n_train=250-s0"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # kill once point 1 is finished and point 2 has a checkpoint
        if point_state(first) == "finished" and list((second / "checkpoints").glob("step_*.pt")):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the sweep did not reach its second point in time")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert point_state(second) == "unfinished"
    finished_history = (first / "history.jsonl").read_bytes()
    finished_mtime = (first / "history.jsonl").stat().st_mtime_ns

    again = groklab_cli(*args, check=True)
    assert "3 points, 1 already finished, 2 to run" in again.stdout
    assert (first / "history.jsonl").read_bytes() == finished_history
    assert (first / "history.jsonl").stat().st_mtime_ns == finished_mtime
    for point in (first, second, out / "task.n_train=1000-s0"):
        assert point_state(point) == "finished"
        steps = [json.loads(line)["step"] for line in (point / "history.jsonl").read_text().splitlines()]
        assert steps == sorted(set(steps)) and steps[-1] == 400  # resumed: no gaps re-done twice, no duplicates
    summary = json.loads((out / "sweep_summary.json").read_text())
    assert [p["outcome"] for p in summary["points"]] == ["generalized", "grokked", "generalized"]


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a point that fails: cuda on a CPU machine")
def test_a_failing_point_is_reported_and_the_others_finish(tmp_path):
    lines = []
    result = api.sweep(LEVI, ["device=cpu,cuda", "train.steps=40"], out=tmp_path / "sw", report_line=lines.append)
    failed = [line for line in lines if "device=cuda" in line]
    assert failed and "failed: RuntimeError" in failed[0] and "no CUDA device" in failed[0]
    states = {point.name: point_state(tmp_path / "sw" / point.name) for point, _ in result.points}
    assert states == {"device=cpu-s0": "finished", "device=cuda-s0": "unfinished"}


def test_a_sweep_rerun_while_the_first_is_running_leaves_its_point_to_it(tmp_path):
    out = tmp_path / "sw"
    args = ["sweep", LEVI, "task.n_train=2000,250", "train.steps=1500", "--workers", "1", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "groklab.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    first = out / "task.n_train=2000-s0"
    deadline = time.monotonic() + 120
    while not (first / "history.jsonl").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    again = groklab_cli(*args)
    proc.wait(timeout=300)
    assert f"task.n_train=2000-s0: failed: RunFolderBusy: {first} is being trained by another process" in again.stdout
    assert f"pid {proc.pid}" in again.stdout
    for point in (first, out / "task.n_train=250-s0"):  # whoever trained a point, it was trained once, whole
        assert point_state(point) == "finished"
        steps = [json.loads(line)["step"] for line in (point / "history.jsonl").read_text().splitlines()]
        assert steps == sorted(set(steps)) and steps[-1] == 1500
    assert "2 points, 2 already finished, 0 to run" in groklab_cli(*args, check=True).stdout
