"""`groklab status`: every run folder's state and outcome, merged with the scheduler's view of SLURM jobs."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from groklab.common.run_folder import ANALYSIS_FILE, CONFIG_FILE, HISTORY_FILE, RunState, find_runs, run_state
from groklab.config import ConfigError
from groklab.history import HistoryError
from groklab.launch.slurm import JobState, job_of, job_states
from groklab.run.folder import DEFAULT_RUNS_DIR


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
    """State and outcome of every run folder under `root` (nothing is written), merged with the scheduler's view
    of runs submitted to SLURM: a queued or running run whose job has ended without completing is shown as
    stopped, with the job's state. A run's analysis.json is read where it is newer than its history (a finished
    or imported run); only the others are analyzed."""
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
        facts = _analysis_facts(run_dir)
        if facts.get("source"):  # an imported log: no status.json; its accuracies are the history's last
            final = facts.get("final") or {}
            state = replace(state, state="imported", step=final.get("step"),
                            train_acc=final.get("train_acc"), test_acc=final.get("test_acc"))
            preset = facts["source"].get("format")
        else:
            preset = facts.get("preset")
        summaries.append(RunSummary(run_dir, preset, facts.get("scale"), facts.get("seed"), state,
                                    facts.get("outcome"), job))
    return summaries


def _analysis_facts(run_dir: Path) -> dict[str, Any]:
    """preset, scale, seed, outcome, final and source of a run: from its analysis.json when that is newer than
    its history and config, else from analyzing it now ({} when it cannot be read)."""
    saved, history = run_dir / ANALYSIS_FILE, run_dir / HISTORY_FILE
    inputs = [path for path in (history, run_dir / CONFIG_FILE) if path.is_file()]
    if saved.is_file() and all(saved.stat().st_mtime >= path.stat().st_mtime for path in inputs):
        try:
            facts = json.loads(saved.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            facts = None  # damaged: analyzed again below
        if _well_formed(facts):
            return facts
    from groklab.run.analysis import analyze  # the heavy path: only for runs without a fresh analysis

    try:
        return analyze(run_dir, write=False).to_dict()
    except (ConfigError, HistoryError):
        return {}


def _well_formed(facts: Any) -> bool:
    """Whether an analysis.json holds the fields status shows, each of its type (else the run is analyzed)."""
    kinds = {"outcome": str, "preset": (str, type(None)), "scale": (str, type(None)), "seed": (int, type(None)),
             "final": (dict, type(None)), "source": (dict, type(None))}
    return isinstance(facts, dict) and all(isinstance(facts.get(key), kind) for key, kind in kinds.items()) \
        and all(isinstance((facts.get("final") or {}).get(key), (int, float, type(None)))
                for key in ("step", "train_acc", "test_acc"))
