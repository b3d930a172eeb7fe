"""The figures of a long history are drawn from a thinned copy: a few thousand evaluations per series, the first
and last, the marked steps and the spikes kept, a series measured at some evaluations only still drawn."""

import numpy as np

from groklab.analysis import AnalysisSpec, analyze_history
from groklab.history import History
from groklab.plots import plot_curves, plot_detail, plot_probes
from groklab.plots.series import Skipped
from groklab.plots.thinning import THIN_POINTS, marked_steps, thin_history, thin_rows

N = 60_000


def long_history(n: int = N) -> History:
    """A run that memorizes, then groks late, with one loss spike and a probe measured every 100 evaluations."""
    records = []
    for i in range(n):
        record = {"step": 10 * i, "train_loss": 3 / (1 + i / 100), "test_loss": 3.0 if i < n // 2 else 0.05,
                  "train_acc": min(1.0, i / (n / 10)), "test_acc": float(np.clip((i - n / 2) / (n / 50), 0, 1)),
                  "param_norm": 10.0, "lr": 1e-3}
        if i == 12_345:
            record["train_loss"] = 50.0  # a spike at one evaluation
        if i % 100 == 0:
            record["weight_sq"] = 100.0 - i / n
        records.append(record)
    return History(records)


def test_a_long_history_is_thinned_keeping_its_ends_marks_spike_and_sparse_probe():
    history = long_history()
    analysis = analyze_history(history, AnalysisSpec())
    thin = thin_history(history, analysis)
    steps = thin.steps
    assert len(thin) <= 3 * THIN_POINTS < N
    assert steps[0] == 0 and steps[-1] == 10 * (N - 1) and np.all(np.diff(steps) > 0)
    assert set(marked_steps(analysis)) <= set(steps.tolist()) and analysis.generalization_step is not None
    assert 10 * 12_345 in steps  # the spike is drawn at its height
    assert (steps < 1000).sum() >= 50  # the first decades of the log step axis are drawn too
    assert np.isfinite(thin.column("weight_sq")).sum() >= THIN_POINTS // 8  # a probe measured every 100th
    assert len(thin_rows(history, analysis)) == len(thin)


def test_a_short_history_is_drawn_as_it_is():
    history = long_history(THIN_POINTS)
    assert thin_history(history, analyze_history(history, AnalysisSpec())) is history


def test_the_figures_of_a_long_history_draw_a_few_thousand_points_per_line():
    history = long_history()
    analysis = analyze_history(history, AnalysisSpec())
    thin, skipped = thin_history(history, analysis), Skipped()
    for figure in (plot_curves(thin, analysis, "", skipped), plot_detail(thin, analysis, "", skipped),
                   plot_probes(thin, analysis, "", None, skipped)):
        lengths = [len(line.get_xdata()) for ax in figure.axes for line in ax.lines]
        assert lengths and max(lengths) <= 3 * THIN_POINTS
    assert not skipped


def test_a_series_that_cannot_be_drawn_is_skipped_and_stated():
    """A log axis with nothing positive on it, a series with no value after step 0: drawn linear, left out."""
    records = [{"step": s, "train_loss": 1.0 / (s + 1), "test_loss": 2.0, "train_acc": 0.5, "test_acc": 0.4,
                "weight_sq": 0.0} for s in range(0, 100, 10)]
    records[1:] = [{k: v for k, v in r.items() if k != "train_acc"} for r in records[1:]]
    history = History(records)
    analysis = analyze_history(history, AnalysisSpec())
    skipped = Skipped()
    for figure in (plot_curves(history, analysis, "", skipped), plot_probes(history, analysis, "", None, skipped)):
        figure.canvas.draw()  # where matplotlib would raise 'Data cannot be log-scaled'
    assert skipped.problems() == [
        "train_acc has no finite value after step 0 (a log step axis starts after it): not drawn in the curves, "
        "probes figures",
        "the panel 'total squared weights' has no positive value for its log axis: drawn on a linear axis in the "
        "probes figure"]
