"""Every command that trains builds a plan and launches it on one executor: the suite (a chosen set of presets at
a tiny length), tickets (two stages), the speed-up table and seeds, here on Local; a failed stage stops the ones
built from it, and every folder is checked before any work."""

from __future__ import annotations

import json

import pytest

from groklab import api
from groklab.launch.executor import Job, Local
from groklab.launch.plan import Plan, Stage, execute
from groklab.studies.speedup import SpeedupSpec, run_speedup
from tests.conftest import groklab_cli

SUITE = ["levi2023_linear", "doshi2024_polynomials", "train.steps=40"]


def test_the_suite_of_chosen_presets_trains_reports_and_reuses_its_runs(tmp_path):
    out = tmp_path / "suite"
    first = groklab_cli("suite", *SUITE, "--out", str(out), "--workers", "1", check=True)
    assert "2 presets at the quick scale" in first.stdout and "2 runs, 0 already finished, 2 to run" in first.stdout
    for name in ("levi2023_linear", "doshi2024_polynomials"):
        assert json.loads((out / name / "status.json").read_text())["state"] == "completed"
        assert f"\n{name:23s}" in first.stdout  # its row in the table
    assert (out / "report" / "report.md").is_file() and (out / "report" / "report.html").is_file()
    again = groklab_cli("suite", *SUITE, "--out", str(out), "--workers", "1", check=True)
    assert "2 runs, 2 already finished, 0 to run" in again.stdout


def test_a_folder_of_another_config_is_refused_before_any_run_of_the_plan_trains(tmp_path):
    out = tmp_path / "suite"
    groklab_cli("suite", "levi2023_linear", "train.steps=40", "--out", str(out), "--workers", "1", check=True)
    proc = groklab_cli("suite", "doshi2024_polynomials", "levi2023_linear", "train.steps=60", "--out", str(out),
                       "--workers", "1")
    assert proc.returncode == 2 and "was trained with a different config (train.steps: 40 -> 60" in proc.stderr
    assert not (out / "doshi2024_polynomials").exists()  # refused before the first run started


def test_a_failed_stage_stops_the_stages_built_from_it(tmp_path, tiny):
    config = api.validate_run_config(tiny)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the run folder should be")
    built = []
    plan = Plan("two stages", [Stage("first", [Job(config, tmp_path / "fine"), Job(config, blocked)]),
                               Stage("second", build=lambda: built.append(1) or [])])
    lines = []
    result = execute(plan, Local(1), lines.append)
    assert isinstance(result.failed[blocked], FileExistsError) and "already exists" in str(result.failed[blocked])
    assert result.outcomes[tmp_path / "fine"] in ("memorizing", "grokked", "generalized_early", "not_learning",
                                                  "unresolved", "diverged", "slingshot")
    assert result.stopped.startswith("1 of the runs of first failed, so second did not start")
    assert built == [] and any("blocked: failed: FileExistsError" in line for line in lines)


def test_tickets_are_two_stages_and_the_same_call_reuses_both(tmp_path):
    short = ["train.steps=30", "train.checkpoint_every=10", "eval.every=10"]
    lines = []
    result = api.tickets("minegishi2023_tickets", density=0.3, out=tmp_path / "t", overrides=short,
                         show_progress=False, report=lines.append)
    assert set(result.runs) == {"dense", "ticket", "random_mask", "dense_matched_norm"}
    assert any("dense and random mask: 2 runs, 0 already finished, 2 to run" in line for line in lines)
    assert any("ticket and matched norm: 2 runs, 0 already finished, 2 to run" in line for line in lines)
    lines.clear()
    api.tickets("minegishi2023_tickets", density=0.3, out=tmp_path / "t", overrides=short, show_progress=False,
                report=lines.append)
    assert sum("2 already finished, 0 to run" in line for line in lines) == 2


def test_the_speedup_plan_stacks_each_arms_seeds(tmp_path):
    spec = SpeedupSpec(presets=["levi2023_linear"], accelerators=["grokfast_ema"], seeds=2, scale="quick",
                       fixed=["train.steps=30"])
    lines = []
    arms = run_speedup(spec, tmp_path / "speedup", workers=1, show_progress=False, report=lines.append)
    assert [(arm.preset, arm.accelerator, len(arm.steps)) for arm in arms] == \
        [("levi2023_linear", "baseline", 2), ("levi2023_linear", "grokfast_ema", 2)]
    assert "4 runs, 0 already finished, 4 to run as 2 batched computation(s)" in lines[0]
    assert sum("together" in line for line in lines) == 4


@pytest.mark.parametrize("command", [["tickets", "minegishi2023_tickets"], ["speedup", "levi2023_linear"],
                                     ["suite", "levi2023_linear"]])
def test_every_study_command_takes_the_one_set_of_slurm_options(command):
    proc = groklab_cli(*command, "--help", check=True)
    for option in ("--executor", "--partition", "--time", "--cpus", "--gpus", "--mem-gb", "--account",
                   "--max-parallel", "--wait"):
        assert option in proc.stdout, option
