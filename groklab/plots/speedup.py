"""The accelerator table as a picture: steps to generalization per preset and accelerator, every seed shown."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure


def plot_speedup(arms: list[Any]) -> Figure:
    """One row per preset, one marker colour per accelerator: each seed's steps to the generalization
    threshold (log scale) and the median as a bar; a seed that never reached it is drawn at its budget as an
    open marker."""
    presets = list(dict.fromkeys(a.preset for a in arms))
    names = list(dict.fromkeys(a.accelerator for a in arms))
    colours = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(presets) * max(len(names), 2) / 2 + 1.5))
    height = 0.8 / len(names)
    for j, name in enumerate(names):
        for i, preset in enumerate(presets):
            arm = next((a for a in arms if a.preset == preset and a.accelerator == name), None)
            if arm is None or arm.skipped or not arm.steps:
                continue
            y = i + (j - (len(names) - 1) / 2) * height
            reached = [s for s in arm.steps if s is not None]
            missed = len(arm.steps) - len(reached)
            if arm.median is not None:
                ax.barh(y, arm.median, height=height * 0.9, color=colours(j), alpha=0.35)
            ax.scatter(np.maximum(reached, 1), [y] * len(reached), color=colours(j), s=14, zorder=3)
            if missed:
                ax.scatter([arm.budget] * missed, [y] * missed, facecolors="none", edgecolors=colours(j), s=30,
                           zorder=3)
    for j, name in enumerate(names):
        ax.scatter([], [], color=colours(j), label=name)
    ax.set_yticks(range(len(presets)), presets)
    ax.invert_yaxis()
    ax.set(xscale="log", xlabel="steps to the generalization threshold (open: not reached within the budget)",
           title="grokking accelerators: steps to generalization per seed, median as bar")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.05 - 0.4 / len(presets)), ncol=len(names),
              fontsize=8)  # below the axis: no preset's points hidden under it
    fig.tight_layout()
    return fig
