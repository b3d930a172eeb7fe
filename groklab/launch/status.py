"""`groklab status`: every run folder's state and outcome, merged with the scheduler's view of SLURM jobs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from groklab.config import ConfigError
from groklab.history import HistoryError
from groklab.launch.slurm import JobState, job_of, job_states
from groklab.run.analysis import analyze
from groklab.run.folder import DEFAULT_RUNS_DIR
from groklab.runs import RunState, find_runs, run_state


@dataclass(frozen=True)
class RunSummary:
    """One line of `groklab status`."""

    run_dir: Path
    preset: str | None
    scale: str | None
    seed: int | None
    state: RunState
    outcome: str | None
    job: JobState | None = None  # the scheduler's view of a run submitted with --executor slurm


def status(root: Path = DEFAULT_RUNS_DIR) -> list[RunSummary]:
    """State and outcome of every run folder under `root` (analysis is computed, nothing is written), merged
    with the scheduler's view of runs submitted to SLURM: a queued or running run whose job has ended
    without completing is shown as stopped, with the job's state."""
    run_dirs = find_runs(root)
    jobs = {run_dir: job["job_id"] for run_dir in run_dirs if (job := job_of(run_dir))}
    job_state = job_states(list(jobs.values()))
    summaries = []
    for run_dir in run_dirs:
        state = run_state(run_dir)
        job = job_state[jobs[run_dir]] if run_dir in jobs else None
        if job and not job.active and job.state != "COMPLETED" and state.state in ("queued", "running"):
            state = replace(state, state="stopped", eta_s=None,
                            note=f"its SLURM job ended {job.state}: submit again to resume it")
        try:
            result = analyze(run_dir, write=False)
            cfg, outcome = result.config, result.analysis.outcome
            if cfg is None:
                summaries.append(RunSummary(run_dir, f"imported {result.source['format']}", None, None, state,
                                            outcome, job))
                continue
        except (ConfigError, HistoryError):
            cfg, outcome = None, None
        summaries.append(RunSummary(run_dir, cfg and cfg.preset, cfg and cfg.scale, cfg and cfg.seed, state, outcome,
                                    job))
    return summaries
