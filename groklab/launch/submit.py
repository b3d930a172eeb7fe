"""`--executor slurm`: validate, calibrate, prepare run folders, submit; wait for and cancel the jobs."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from groklab.config import RunConfig, config_to_dict, dump_config
from groklab.launch import SubmissionError
from groklab.launch.slurm import (
    SlurmResources,
    cancel,
    job_of,
    job_states,
    require_scheduler,
    submit,
    time_limit_min,
)
from groklab.resolve import resolve
from groklab.run.folder import CONFIG_FILE, DEFAULT_RUNS_DIR, check_reusable, new_run_dir, point_state
from groklab.runs import find_runs
from groklab.studies.sweeps import claim_folder, default_sweep_dir, resolve_points, sweep_spec
from groklab.train.calibrate import WallTimeEstimate, estimate_wall_time
from groklab.train.status import write_status


@dataclass(frozen=True)
class Submission:
    """Jobs submitted for run folders, with the limit they got and the estimate it came from."""

    run_dirs: list[Path]
    job_ids: list[str]
    time_limit_min: int
    estimate: WallTimeEstimate | None  # of the longest run; None when nothing was left to submit


def submit_run(cfg: RunConfig, resources: SlurmResources, out: Path | None = None) -> Submission:
    """Calibrate `cfg`, then create its run folder and submit it as one SLURM job."""
    require_scheduler()
    estimate = estimate_wall_time(cfg, resources.cpus_per_task)
    limit = time_limit_min(estimate.total_s, resources, f"{cfg.preset or 'this run'} ({cfg.scale})")
    run_dir = new_run_dir(cfg, out)
    _prepare(cfg, run_dir)
    try:
        job_ids = submit([run_dir], resources, limit, run_dir / "slurm", f"groklab-{cfg.preset or 'run'}")
    except SubmissionError as err:  # the folder holds only what _prepare wrote: a rerun may use it again
        shutil.rmtree(run_dir)
        raise SubmissionError(f"{err} (the prepared folder {run_dir} was removed)") from err
    return Submission([run_dir], job_ids, limit, estimate)


def submit_sweep(
    preset: str, arguments: list[str], resources: SlurmResources, scale: str = "quick", seeds: int = 1,
    out: Path | None = None, report_line: Callable[[str], None] = print,
) -> Submission:
    """Submit every unfinished point of a sweep as one job array. Finished points and points whose job is still
    queued or running are left alone, so the same command again only resubmits what stopped."""
    require_scheduler()
    spec = sweep_spec(preset, arguments, scale, seeds)
    configs = resolve_points(spec, resolve)
    sweep_dir = out or default_sweep_dir(spec, DEFAULT_RUNS_DIR)
    claim_folder(spec, sweep_dir)
    for point, cfg in configs:
        check_reusable(sweep_dir / point.name, cfg)
    live = _live_jobs([sweep_dir / p.name for p, _ in configs])
    todo = [(p, cfg) for p, cfg in configs
            if point_state(sweep_dir / p.name) != "finished" and (sweep_dir / p.name) not in live]
    report_line(f"sweep {sweep_dir}: {len(configs)} points, {len(live)} queued or running, "
                f"{len(configs) - len(todo) - len(live)} finished, {len(todo)} to submit")
    if not todo:
        return Submission([], [], 0, None)
    estimates = _estimates([cfg for _, cfg in todo], resources.cpus_per_task)
    longest = max(estimates, key=lambda e: e.total_s)
    limit = time_limit_min(longest.total_s, resources, f"the longest point of {spec.preset} ({scale})")
    report_line(f"calibration: longest point {longest.describe()}; time limit {limit} min")
    run_dirs = []
    for point, cfg in todo:
        run_dir = sweep_dir / point.name
        if point_state(run_dir) == "new":
            run_dir.mkdir(parents=True, exist_ok=True)
            _prepare(cfg, run_dir)
        run_dirs.append(run_dir)
    try:
        job_ids = submit(run_dirs, resources, limit, sweep_dir / "slurm", f"groklab-{spec.preset}-sweep")
    except SubmissionError as err:
        raise SubmissionError(f"{err} (the prepared points stay in {sweep_dir}: the same command submits them "
                              "again)") from err
    return Submission(run_dirs, job_ids, limit, longest)


def _prepare(cfg: RunConfig, run_dir: Path) -> None:
    dump_config(cfg, run_dir / CONFIG_FILE)
    write_status(run_dir, "queued", total_steps=cfg.train.steps)


def _estimates(configs: list[RunConfig], threads: int) -> list[WallTimeEstimate]:
    """One calibration per distinct config (seeds share one: they cost the same)."""
    measured: dict[str, WallTimeEstimate] = {}
    for cfg in configs:
        key = json.dumps({k: v for k, v in config_to_dict(cfg).items() if k != "seed"}, sort_keys=True)
        if key not in measured:
            measured[key] = estimate_wall_time(cfg, threads)
    return list(measured.values())


def _live_jobs(run_dirs: list[Path]) -> set[Path]:
    """Run folders whose SLURM job is still queued or running."""
    jobs = {run_dir: job["job_id"] for run_dir in run_dirs if (job := job_of(run_dir))}
    states = job_states(list(jobs.values()))
    return {run_dir for run_dir, job_id in jobs.items() if states[job_id].active}


def wait(job_ids: list[str], timeout_s: float, poll_s: float = 2.0) -> dict[str, str]:
    """Block until none of `job_ids` is queued or running (or `timeout_s` passes); their final states."""
    deadline = time.monotonic() + timeout_s
    while True:
        states = job_states(job_ids)
        if not any(s.active for s in states.values()) or time.monotonic() > deadline:
            return {j: s.state for j, s in states.items()}
        time.sleep(poll_s)


def cancel_runs(root: Path) -> list[tuple[Path, str]]:
    """scancel the queued or running jobs of the run folders at or below `root`; (folder, job id) of each."""
    run_dirs = find_runs(root)
    live = _live_jobs(run_dirs)
    chosen = [(run_dir, job_of(run_dir)["job_id"]) for run_dir in run_dirs if run_dir in live]
    cancel([job_id for _, job_id in chosen])
    return chosen
