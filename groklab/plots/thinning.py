"""A long history thinned for drawing: a figure of 10^6 evaluations shows no more than one of a few thousand, and
matplotlib draws a few thousand points per line in milliseconds where 10^6 take seconds.

Which evaluations are kept (`thin_history`), each a whole record, so every series of a kept evaluation is drawn:
- `points` evaluations spread over the run: half evenly spaced, half evenly spaced in log step (the figures' step
  axis is logarithmic: evenly spaced alone would leave its first decades empty), the first and the last among them;
- in each of `points // 4` equal stretches of evaluations, the one with the lowest and the one with the highest
  training loss and test loss, so a spike (a Slingshot cycle, a loss blow-up) that fell between evenly spaced
  evaluations is still drawn at its height;
- the steps the analysis marks (memorization, generalization, each transition's start and end, each Slingshot
  cycle's baseline, spike, peak and end), and up to `points // 4` evenly spaced evaluations inside the detail
  figure's zoom window, so the marks and the zoom sit on drawn points;
- for a series measured at only some evaluations (probes with eval.probe_every) that the above leaves with few
  points, up to `points` evaluations spread the same way among those that measured it.
The figures of a history of `points` evaluations or fewer are drawn from the history itself.
"""

from __future__ import annotations

import numpy as np

from groklab.analysis import Analysis
from groklab.history import History
from groklab.plots.detail import zoom_window

THIN_POINTS = 2000
EXTREMES_OF = ("train_loss", "test_loss")


def evenly(rows: np.ndarray, count: int) -> np.ndarray:
    """`count` of `rows` at evenly spaced positions, the first and the last among them (all when fewer)."""
    if len(rows) <= count:
        return rows
    return rows[np.unique(np.linspace(0, len(rows) - 1, count).round().astype(np.int64))]


def spread(rows: np.ndarray, steps: np.ndarray, count: int) -> np.ndarray:
    """About `count` of `rows` (at `steps`): half evenly spaced among them, half nearest to steps evenly spaced in
    log step, so the figures' log step axis has points in its first decades as well as its last."""
    if len(rows) <= count:
        return rows
    at = steps[rows]
    positive = np.flatnonzero(at > 0)
    if len(positive) < 2:
        return evenly(rows, count)
    grid = np.geomspace(at[positive[0]], at[-1], count // 2)
    nearest = np.minimum(np.searchsorted(at, grid), len(rows) - 1)
    return np.union1d(evenly(rows, count - count // 2), rows[nearest])


def marked_steps(analysis: Analysis) -> list[int]:
    """The steps the figures mark: the events, the transitions' ends, the Slingshot cycles."""
    steps = [analysis.memorization_step, analysis.generalization_step]
    steps += [t[key] for t in analysis.transitions for key in ("start_step", "end_step")]
    steps += [c[key] for c in analysis.slingshots or () for key in ("baseline_step", "spike_step", "peak_step",
                                                                    "end_step")]
    return [int(s) for s in steps if s is not None]


def _extremes(values: np.ndarray, buckets: int) -> np.ndarray:
    """The rows of the lowest and the highest finite value in each of `buckets` equal stretches of rows."""
    edges = np.linspace(0, len(values), buckets + 1).astype(np.int64)
    low, high = np.where(np.isfinite(values), values, np.inf), np.where(np.isfinite(values), values, -np.inf)
    rows = [edges[:-1] + np.array([np.argmin(low[a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True)]),
            edges[:-1] + np.array([np.argmax(high[a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True)])]
    return np.concatenate(rows)


def thin_rows(history: History, analysis: Analysis, points: int = THIN_POINTS) -> np.ndarray:
    """The rows (indices in step order) of the evaluations `thin_history` keeps (see the module docstring)."""
    n, steps = len(history), history.steps
    rows = [spread(np.arange(n), steps, points)]
    rows += [_extremes(history.column(name), points // 4) for name in EXTREMES_OF if history.has(name)]
    marked = np.searchsorted(steps, marked_steps(analysis))
    rows.append(marked[marked < n])
    window = zoom_window(analysis)
    if window is not None:
        rows.append(evenly(np.flatnonzero((steps >= window[0]) & (steps <= window[1])), points // 4))
    kept = np.unique(np.concatenate(rows))
    thin, few = history.take(kept), max(points // 8, 2)
    for name in history.series_names:
        drawn = int(np.isfinite(thin.column(name)).sum())
        if name == "step" or drawn >= few:
            continue
        measured = np.flatnonzero(np.isfinite(history.column(name)))
        if len(measured) > drawn:
            kept = np.union1d(kept, spread(measured, steps, points))
            thin = history.take(kept)
    return kept


def thin_history(history: History, analysis: Analysis, points: int = THIN_POINTS) -> History:
    """The history to draw: itself when it holds at most `points` evaluations, else the evaluations kept by the
    rule of the module docstring, in step order (a few thousand at most for each series)."""
    if len(history) <= points:
        return history
    return history.take(thin_rows(history, analysis, points))
