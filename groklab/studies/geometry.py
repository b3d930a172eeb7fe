"""`groklab geometry RUNS`: for every run that recorded the representation probe, when each geometric measure
moves relative to its own test-accuracy jump (groklab.analysis.alignment), so that presets of different papers
can be read on the same axes; runs that did not generalize after memorizing are listed apart with their outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from groklab.analysis.alignment import align, normalized_time
from groklab.common.run_folder import find_runs
from groklab.config import ConfigError
from groklab.history import HistoryError
from groklab.plots import save_figure
from groklab.plots.geometry import plot_aligned
from groklab.report.render import SweepEntry
from groklab.run.analysis import RunAnalysis, analyze

# the measures every model has (docs/analysis.md)
MEASURE_PREFIXES = ("rep_", "logit_", "param_norm", "weight_norm_total", "embed_fourier_")


@dataclass(frozen=True)
class RunGeometry:
    """One run: its name, preset and outcome, and each measure's half-change time and order (empty with a
    `reason` when the run cannot be aligned)."""

    name: str
    preset: str
    outcome: str
    measures: dict[str, dict]
    reason: str | None = None
    times: np.ndarray | None = field(default=None, repr=False)  # normalized time of each evaluation
    columns: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # the measures and test_acc

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
    test_acc = history.column("test_acc")
    return RunGeometry(name, preset, a.outcome, align(history.steps, columns, test_acc, m, g),
                       times=normalized_time(history.steps, m, g), columns={"test_acc": test_acc, **columns})


def geometry(runs_dir: Path) -> list[RunGeometry]:
    """run_geometry of every run folder under `runs_dir`; a run whose config or history cannot be read is listed
    with outcome 'unreadable' and the reason (which names the file and what is wrong with it)."""
    found = []
    for run_dir in find_runs(runs_dir):
        name = str(run_dir.relative_to(runs_dir)) if run_dir != runs_dir else run_dir.name
        try:
            result = analyze(run_dir, write=False)
        except (ConfigError, HistoryError) as err:
            found.append(RunGeometry(name, "-", "unreadable", {}, f"not read: {err}"))
            continue
        found.append(run_geometry(result, name))
    return found


FIGURE_MEASURES = ["test_acc", "rep_effective_rank_test", "rep_local_complexity_test", "rep_cka_previous_test",
                   "logit_margin_test", "logit_norm_test", "weight_norm_total", "embed_fourier_gini"]
ORDERS = ("before", "with", "after", "flat")


def placement(placed: list[dict | None]) -> str:
    """One table cell: a single run's order and time ("before (-0.59)"), or over several runs of a preset the
    count of each order and the median time ("before 2, with 1 (median -0.31)"); "-" when none recorded it."""
    placed = [p for p in placed if p]
    if not placed:
        return "-"
    times = [p["time"] for p in placed if p["time"] is not None]
    if len(placed) == 1:
        return f"{placed[0]['order']} ({times[0]:.2f})" if times else placed[0]["order"]
    counts = ", ".join(f"{order} {n}" for order in ORDERS if (n := sum(p["order"] == order for p in placed)))
    return counts + (f" (median {np.median(times):.2f})" if times else "")


def geometry_entry(runs: list[RunGeometry], figures: Path) -> SweepEntry | None:
    """The report's cross-paper section: one row per measure with each preset's placement over its aligned runs
    and the counts of before / with / after / flat over all of them, a figure of the trajectories on normalized
    time (one colour per preset); None when no run recorded the representation probe."""
    aligned = [run for run in runs if run.times is not None]
    probed = [run for run in runs if run.reason is None or not run.reason.startswith("no representation")]
    if not probed:
        return None
    presets = list(dict.fromkeys(run.preset for run in aligned))
    # per-layer measures (weight_norm/<parameter>, rep_*/hidden<i>_<split>) differ between models: each run's
    # probe figure shows them; the cross-paper table keeps the measures every model has
    measures = list(dict.fromkeys(m for run in aligned for m in run.measures if "/" not in m))
    rows = []
    for measure in measures:
        cells = [placement([run.measures.get(measure) for run in aligned if run.preset == preset])
                 for preset in presets]
        placed = [p for run in aligned if (p := run.measures.get(measure))]
        counts = {order: sum(p["order"] == order for p in placed) for order in ORDERS}
        rows.append([measure, *cells, ", ".join(f"{order} {n}" for order, n in counts.items() if n)])
    apart = [f"{run.name} ({run.preset}, {run.outcome}): {run.reason}" for run in probed if run.times is None]
    findings = [f"{len(aligned)} run(s) of {len(presets)} preset(s) aligned at their own transition (normalized "
                "time: 0 at memorization, 1 at generalization; a measure's time is when it has covered half its "
                "change over [-1, 2])"]
    findings += [f"not aligned: {line}" for line in apart]
    figure_list: tuple[Path, ...] = ()
    if aligned:
        figure = figures / "geometry-aligned.png"
        shown = [m for m in FIGURE_MEASURES if any(m in run.columns for run in aligned)]
        save_figure(plot_aligned([(run.preset, run.times, run.columns) for run in aligned], shown), figure)
        figure_list = (figure,)
    return SweepEntry("geometry", "when does each geometric measure move, relative to test accuracy?",
                      ["measure", *presets, "all runs"], rows, findings, figure_list, kind="Across papers")
