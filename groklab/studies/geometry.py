"""`groklab geometry RUNS`: for every run that recorded the representation probe, when each geometric measure
moves relative to its own test-accuracy jump (groklab.analysis.alignment), so that presets of different papers
can be read on the same axes; runs that did not generalize after memorizing are listed apart with their outcome."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from groklab.analysis.alignment import align
from groklab.config import ConfigError
from groklab.history import HistoryError
from groklab.run.analysis import RunAnalysis, analyze
from groklab.runs import find_runs

MEASURE_PREFIXES = ("rep_", "logit_", "param_norm")  # the measures every model has (docs/analysis.md)


@dataclass(frozen=True)
class RunGeometry:
    """One run: its name, preset and outcome, and each measure's half-change time and order (empty with a
    `reason` when the run cannot be aligned)."""

    name: str
    preset: str
    outcome: str
    measures: dict[str, dict]
    reason: str | None = None

    def to_dict(self) -> dict:
        return {"run": self.name, "preset": self.preset, "outcome": self.outcome, "measures": self.measures,
                "reason": self.reason}


def run_geometry(result: RunAnalysis, name: str) -> RunGeometry:
    """The alignment of one run's geometric measures at its transition, or why there is none."""
    a, history = result.analysis, result.history
    preset = result.preset or "-"
    columns = {column: history.column(column) for column in history.series_names
               if column.startswith(MEASURE_PREFIXES)}
    if not any(column.startswith("rep_") for column in columns):
        return RunGeometry(name, preset, a.outcome, {}, "no representation probe recorded (eval.probes)")
    m, g = a.memorization_step, a.generalization_step
    if m is None or g is None or g <= m:
        return RunGeometry(name, preset, a.outcome, {}, "it did not generalize after memorizing")
    return RunGeometry(name, preset, a.outcome, align(history.steps, columns, history.column("test_acc"), m, g))


def geometry(runs_dir: Path) -> list[RunGeometry]:
    """run_geometry of every run folder under `runs_dir` whose history can be read."""
    found = []
    for run_dir in find_runs(runs_dir):
        try:
            result = analyze(run_dir, write=False)
        except (ConfigError, HistoryError):
            continue
        found.append(run_geometry(result, str(run_dir.relative_to(runs_dir)) if run_dir != runs_dir else run_dir.name))
    return found
