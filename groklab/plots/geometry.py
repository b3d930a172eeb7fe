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


def plot_aligned(runs: list[tuple[str, np.ndarray, dict[str, np.ndarray]]], measures: list[str]) -> Figure:
    """One panel per measure: each run (label, normalized times, {measure: values}) drawn within the alignment
    window, scaled to its own range; dashed lines mark memorization (0) and generalization (1)."""
    fig, axes = plt.subplots(1, len(measures), figsize=(3.6 * len(measures), 3.2), squeeze=False)
    for ax, measure in zip(axes[0], measures, strict=True):
        for i, (label, times, columns) in enumerate(runs):  # one colour per run in every panel
            if measure not in columns:
                continue
            inside = (times >= WINDOW[0]) & (times <= WINDOW[1])
            ax.plot(times[inside], scaled(columns[measure][inside]), label=label, color=f"C{i % 10}", linewidth=1.2)
        for edge in (0, 1):
            ax.axvline(edge, color="grey", linestyle="--", linewidth=0.8)
        ax.set(title=measure, xlabel="normalized time", ylim=(-0.05, 1.05), xlim=WINDOW)
    axes[0][0].set_ylabel("scaled to each run's range")
    axes[0][0].legend(fontsize="x-small", loc="best")  # test_acc: every aligned run has it
    fig.tight_layout()
    return fig
