"""Many processes at one sweep folder at once: 16 drivers claim the same sweep, each finishes one point and then
all analyze the sweep at the same moment; every marker, summary and point file must be whole afterwards."""

from __future__ import annotations

import json
import multiprocessing
import traceback

import yaml

from groklab.common.run_folder import read_status, write_status
from groklab.config import dump_config
from groklab.history import HistoryWriter, load_history, make_record
from groklab.studies.sweeps import SWEEP, analyze_sweep, claim_study, resolve_points, sweep_spec

WORKERS = 16


def finish_point(sweep_dir, index, barrier, errors):
    """One driver: claim the sweep, write point `index` as a finished run, then analyze the whole sweep (which
    rewrites sweep_summary.json), each step started by all drivers at once."""
    try:
        spec = sweep_spec("levi2023_linear", ["train.steps=19"], "quick", seeds=WORKERS)
        cfg, name = resolve_points(spec)[index]
        barrier.wait()
        claim_study(sweep_dir, SWEEP, spec.to_dict())
        run_dir = sweep_dir / name
        run_dir.mkdir()
        dump_config(cfg, run_dir / "config.yaml")
        write_status(run_dir, "running", step=0, total_steps=cfg.train.steps)
        with HistoryWriter(run_dir / "history.jsonl") as history:
            for step in range(cfg.train.steps + 1):  # a run that memorizes and does not generalize
                history.write(make_record(step, epoch=float(step), train_loss=1 / (step + 1),
                                          train_acc=min(1, step / 5), test_loss=1.0, test_acc=0.1, param_norm=3.0,
                                          lr=2.0, elapsed_s=0.01 * step))
        write_status(run_dir, "completed", step=cfg.train.steps, total_steps=cfg.train.steps)
        barrier.wait()
        analyze_sweep(sweep_dir)
    except BaseException:  # noqa: BLE001 (reported to the test, which fails with it)
        errors.put(f"driver {index}: {traceback.format_exc()}")


def test_sixteen_drivers_finishing_points_at_once_leave_every_file_whole(tmp_path):
    context = multiprocessing.get_context("fork")
    sweep_dir = tmp_path / "sweep"
    barrier, errors = context.Barrier(WORKERS, timeout=60), context.Queue()
    drivers = [context.Process(target=finish_point, args=(sweep_dir, i, barrier, errors)) for i in range(WORKERS)]
    for driver in drivers:
        driver.start()
    for driver in drivers:
        driver.join(90)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert not failures, "\n".join(failures)
    assert [d.exitcode for d in drivers] == [0] * WORKERS

    spec = sweep_spec("levi2023_linear", ["train.steps=19"], "quick", seeds=WORKERS)
    marker = json.loads((sweep_dir / "sweep.json").read_text())
    assert marker["spec"] == spec.to_dict()
    summary = json.loads((sweep_dir / "sweep_summary.json").read_text())
    names = [name.name for _, name in resolve_points(spec)]
    assert [row["point"] for row in summary["points"]] == names
    assert all(row["state"] == "completed" and row["outcome"] == "memorizing" for row in summary["points"])
    for name in names:
        run_dir = sweep_dir / name
        assert yaml.safe_load((run_dir / "config.yaml").read_text())["seed"] == int(name.rsplit("-s", 1)[1])
        assert read_status(run_dir)["state"] == "completed"
        history = load_history(run_dir)
        assert len(history) == 20 and not history.problems
    leftovers = [p.name for p in sweep_dir.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"


def claim(sweep_dir, seeds, barrier, outcomes):
    """One driver claiming the sweep for `seeds` seeds, at the same moment as the others."""
    spec = sweep_spec("levi2023_linear", ["train.steps=19"], "quick", seeds=seeds)
    barrier.wait()
    try:
        claim_study(sweep_dir, SWEEP, spec.to_dict())
        outcomes.put((seeds, "claimed"))
    except FileExistsError as err:
        outcomes.put((seeds, str(err)))


def test_of_two_studies_claiming_one_folder_at_once_only_the_first_written_is_kept(tmp_path):
    context = multiprocessing.get_context("fork")
    sweep_dir = tmp_path / "sweep"
    barrier, outcomes = context.Barrier(WORKERS, timeout=60), context.Queue()
    drivers = [context.Process(target=claim, args=(sweep_dir, 2 + i % 2, barrier, outcomes)) for i in range(WORKERS)]
    for driver in drivers:
        driver.start()
    for driver in drivers:
        driver.join(60)
    results = [outcomes.get(timeout=5) for _ in drivers]
    kept = len(json.loads((sweep_dir / "sweep.json").read_text())["spec"]["seeds"])
    assert {outcome for seeds, outcome in results if seeds == kept} == {"claimed"}
    refusals = [outcome for seeds, outcome in results if seeds != kept]
    assert len(refusals) == WORKERS // 2
    assert all("holds a different sweep" in outcome and "choose another --out" in outcome for outcome in refusals)
    assert not [p.name for p in sweep_dir.iterdir() if p.name != "sweep.json"]
