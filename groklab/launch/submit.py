"""`--executor slurm`: validate, calibrate, prepare run folders, submit; wait for and cancel the jobs."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from groklab.common.run_folder import CONFIG_FILE, find_runs, write_status
from groklab.config import RunConfig, config_to_dict, dump_config
from groklab.launch.slurm import (
    cancel,
    job_of,
    job_states,
)

if TYPE_CHECKING:
    from groklab.train.calibrate import WallTimeEstimate


@dataclass(frozen=True)
class Submission:
    """Jobs submitted for run folders, with the limit they got and the estimate it came from."""

    run_dirs: list[Path]
    job_ids: list[str]
    time_limit_min: int
    estimate: WallTimeEstimate | None  # of the longest run; None when nothing was left to submit


def prepare(cfg: RunConfig, run_dir: Path) -> None:
    """Write the config and a queued status into a new run folder, for a job to train."""
    dump_config(cfg, run_dir / CONFIG_FILE)
    write_status(run_dir, "queued", total_steps=cfg.train.steps)


def estimate_all(configs: list[RunConfig], threads: int) -> list[WallTimeEstimate]:
    """One calibration per distinct config (seeds share one: they cost the same)."""
    from groklab.train.calibrate import estimate_wall_time  # it trains: torch only when submitting

    measured: dict[str, WallTimeEstimate] = {}
    for cfg in configs:
        key = json.dumps({k: v for k, v in config_to_dict(cfg).items() if k != "seed"}, sort_keys=True)
        if key not in measured:
            measured[key] = estimate_wall_time(cfg, threads)
    return list(measured.values())


def live_jobs(run_dirs: list[Path]) -> set[Path]:
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
    live = live_jobs(run_dirs)
    chosen = [(run_dir, job_of(run_dir)["job_id"]) for run_dir in run_dirs if run_dir in live]
    cancel([job_id for _, job_id in chosen])
    return chosen
