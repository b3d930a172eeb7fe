"""All runs side by side: one small panel of train and test accuracy per run."""

from __future__ import annotations

import math

from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from groklab.analysis import Analysis
from groklab.history import History
from groklab.plots.curves import COLORS, step_axis
from groklab.plots.series import Skipped, draw_line, set_scales
from groklab.plots.thinning import thin_history


def plot_comparison(runs: list[tuple[str, History, Analysis]], columns: int = 4) -> Figure:
    """Grid of accuracy curves (log x), titled with each run's label and outcome; each run drawn from its thinned
    history (groklab.plots.thinning). A run without accuracies has an empty panel that says so (its own figures
    state what they left out)."""
    rows = max(1, math.ceil(len(runs) / columns))
    cols = min(columns, max(1, len(runs)))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.flat[len(runs):]:
        ax.set_visible(False)
    for ax, (label, history, analysis) in zip(axes.flat, runs, strict=False):
        history = thin_history(history, analysis)
        steps = history.steps
        shown, xscale = step_axis(steps)
        for split in ("train", "test"):
            draw_line(ax, steps, history.column(f"{split}_acc"), shown, figure="comparison", series=f"{split}_acc",
                      skipped=Skipped(), color=COLORS[split], label=split)
        set_scales(ax, xscale)
        ax.set(ylim=(-0.02, 1.02), title=f"{label}\n{analysis.outcome}")
        ax.title.set_fontsize(8)
        ax.tick_params(labelsize=7)
    if axes.flat[0].get_legend_handles_labels()[0]:
        axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.supxlabel("step")
    fig.supylabel("accuracy")
    fig.tight_layout()
    return fig
