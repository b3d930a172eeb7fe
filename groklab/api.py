"""The public Python API (what the CLI wraps): resolve configs; run, resume and analyze runs; run studies;
write the report. Each name lives in the module of its layer; this module only gathers them."""

from __future__ import annotations

from groklab.importers import import_run
from groklab.launch.executor import Local, Slurm
from groklab.launch.plan import PlanResult, run, run_seeds, wait_for_runs
from groklab.launch.slurm import SlurmResources
from groklab.launch.status import RunSummary, status
from groklab.launch.submit import Submission
from groklab.presets import PRESETS, expected_outcome, presets
from groklab.resolve import get_preset, resolve, validate_run_config
from groklab.run.analysis import MEASURES, RunAnalysis, analyze, plot_measure
from groklab.run.execute import RunHandle, resume, run_or_reuse
from groklab.run.folder import DEFAULT_RUNS_DIR, new_run_dir
from groklab.studies.geometry import RunGeometry, geometry
from groklab.studies.report import report
from groklab.studies.suite import preset_of_run, suite
from groklab.studies.sweeps import (
    SweepAnalysis,
    analyze_sweep,
    find_sweeps,
    study_arguments,
    sweep,
    sweep_spec,
)
from groklab.studies.tickets import TICKET_RUNS, TICKETS_HEADER, TicketsResult, find_tickets, load_tickets, tickets

__all__ = [
    "DEFAULT_RUNS_DIR", "Local", "MEASURES", "PRESETS", "PlanResult", "RunAnalysis", "RunGeometry", "RunHandle",
    "RunSummary", "Slurm", "SlurmResources", "Submission", "SweepAnalysis", "TICKETS_HEADER", "TICKET_RUNS",
    "TicketsResult", "analyze", "analyze_sweep", "expected_outcome", "find_sweeps", "find_tickets", "geometry",
    "get_preset", "import_run", "load_tickets", "new_run_dir", "plot_measure", "preset_of_run", "presets", "report",
    "resolve", "resume", "run", "run_or_reuse", "run_seeds", "status", "study_arguments", "suite", "sweep",
    "sweep_spec", "tickets", "validate_run_config", "wait_for_runs",
]
