"""The geometry measures of many runs on one axis: normalized time (0 at memorization, 1 at generalization)."""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from groklab.analysis.alignment import WINDOW


def scaled(values: np.ndarray) -> np.ndarray:
    """Values mapped onto [0, 1] by their own range (a constant maps to 0.5), so runs of different models share
    an axis: what is compared is when a measure moves, not its size."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return values
    low, high = finite.min(), finite.max()
    return np.full_like(values, 0.5) if high == low else (values - low) / (high - low)


def plot_aligned(runs: list[tuple[str, np.ndarray, dict[str, np.ndarray]]], measures: list[str],
                 columns_per_row: int = 4) -> Figure:
    """One panel per measure: each run (label, normalized times, {measure: values}) drawn within the alignment
    window, scaled to its own range, one colour per label (a preset's seeds share theirs); dashed lines mark
    memorization (0) and generalization (1)."""
    n_cols = min(columns_per_row, len(measures))
    n_rows = -(-len(measures) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.6 * n_cols, 3.2 * n_rows), squeeze=False)
    colours = {label: f"C{i % 10}" for i, label in enumerate(dict.fromkeys(label for label, _, _ in runs))}
    for ax, measure in zip(axes.flat, measures, strict=False):  # spare panels of the last row stay empty
        drawn: set[str] = set()
        for label, times, columns in runs:
            if measure not in columns:
                continue
            values = columns[measure]
            shown = (times >= WINDOW[0]) & (times <= WINDOW[1]) & np.isfinite(values)  # probes may skip evaluations
            ax.plot(times[shown], scaled(values[shown]), color=colours[label], linewidth=1.0, alpha=0.8,
                    label=label if label not in drawn else "_nolegend_")
            drawn.add(label)
        for edge in (0, 1):
            ax.axvline(edge, color="grey", linestyle="--", linewidth=0.8)
        ax.set(title=measure, xlabel="normalized time", ylim=(-0.05, 1.05), xlim=WINDOW)
    for ax in list(axes.flat)[len(measures):]:
        ax.set_visible(False)
    axes[0][0].set_ylabel("scaled to each run's range")
    axes[0][0].legend(fontsize="x-small", loc="best")  # test_acc: every aligned run has it
    fig.tight_layout()
    return fig


def plot_against_steps(steps: list[int], series: dict[str, list[float]], accuracy: tuple[np.ndarray, np.ndarray],
                       marks: dict[str, int | None], title: str) -> Figure:
    """Measures computed at some steps (e.g. from kept checkpoints), with test accuracy and the run's event steps
    (`marks`: label -> step, drawn dashed) on the same step axis."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, values in series.items():
        ax.plot(steps, values, marker="o", markersize=3, label=label)
    ax.plot(*accuracy, color="black", linewidth=1.0, alpha=0.6, label="test accuracy")
    for i, (label, step) in enumerate((k, v) for k, v in marks.items() if v is not None):
        ax.axvline(step, color=f"C{i + 5}", linestyle="--", linewidth=0.9, label=f"{label} ({step})")
    ax.set(xlabel="step", ylim=(-0.05, 1.05), title=title)
    ax.legend(fontsize="small", loc="best")
    fig.tight_layout()
    return fig
