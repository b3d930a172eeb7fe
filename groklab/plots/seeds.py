"""Seed bands: median and range over seeds of one setting, train and test accuracy."""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from groklab.history import History
from groklab.plots.curves import COLORS, step_axis


def plot_seed_bands(histories: list[History], title: str) -> Figure:
    """Each seed's accuracy is interpolated (in log step) onto the first run's evaluation steps."""
    shown, xscale = step_axis(histories[0].steps)
    steps = np.maximum(histories[0].steps[shown], 1).astype(float)
    fig, ax = plt.subplots(figsize=(7, 4))
    for split in ("train", "test"):
        curves = np.stack([
            np.interp(np.log(steps), np.log(np.maximum(h.steps, 1)), np.nan_to_num(h.column(f"{split}_acc")))
            for h in histories
        ])
        ax.fill_between(steps, curves.min(0), curves.max(0), color=COLORS[split], alpha=0.2)
        ax.plot(steps, np.median(curves, 0), color=COLORS[split], label=f"{split} (median, range)")
    ax.set(xscale=xscale, ylim=(-0.02, 1.02), xlabel="step", ylabel="accuracy",
           title=f"{title}: {len(histories)} seeds")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig
