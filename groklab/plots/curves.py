"""Loss and accuracy curves of one run, with the memorization and generalization steps marked."""

from __future__ import annotations

import io

import matplotlib
import numpy as np

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from groklab.analysis import Analysis  # noqa: E402
from groklab.common.files import make_folder, write_atomic  # noqa: E402
from groklab.history import History  # noqa: E402
from groklab.plots.layout import fixed_margins  # noqa: E402
from groklab.plots.series import Skipped, draw_line, set_scales  # noqa: E402

COLORS = {"train": "tab:blue", "test": "tab:red"}


def step_axis(steps: np.ndarray) -> tuple[np.ndarray, str]:
    """Which evaluations to draw and the step-axis scale: log without step 0, or linear when only step 0 exists."""
    positive = steps > 0
    return (positive, "log") if positive.any() else (np.ones_like(positive), "linear")


def loss_axis_scale(history: History, shown: np.ndarray) -> str:
    """'log' when a shown loss is positive and finite, else 'linear' (e.g. a run that diverged at once)."""
    losses = np.concatenate([history.column("train_loss")[shown], history.column("test_loss")[shown]])
    return "log" if (np.isfinite(losses) & (losses > 0)).any() else "linear"


def plot_curves(history: History, analysis: Analysis, title: str = "", skipped: Skipped | None = None) -> Figure:
    """Two panels over steps (log x): loss (log y) and accuracy, train and test. A series the history holds no
    value of is left out and stated in `skipped`."""
    skipped = Skipped() if skipped is None else skipped
    steps = history.steps
    shown, xscale = step_axis(steps)
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    for split in ("train", "test"):
        for ax, name in ((loss_ax, f"{split}_loss"), (acc_ax, f"{split}_acc")):
            draw_line(ax, steps, history.column(name), shown, figure="curves", series=name, skipped=skipped,
                      color=COLORS[split], label=split)
    set_scales(loss_ax, xscale, loss_axis_scale(history, shown))
    set_scales(acc_ax, xscale)
    loss_ax.set(xlabel="step", ylabel="loss", title="loss")
    acc_ax.set(xlabel="step", ylabel="accuracy", title="accuracy", ylim=(-0.02, 1.02))
    marks = (("memorization", analysis.memorization_step, COLORS["train"]),
             ("generalization", analysis.generalization_step, COLORS["test"]))
    for name, step, color in marks:
        if step:
            for ax in (loss_ax, acc_ax):
                ax.axvline(step, color=color, linestyle="--", linewidth=1, alpha=0.7)
            acc_ax.annotate(f"{name}\nstep {step}", (step, 0.5), color=color, fontsize=8, ha="right", rotation=90)
    if acc_ax.get_legend_handles_labels()[0]:
        acc_ax.legend(loc="lower right")
    fig.suptitle(f"{title}  ·  outcome: {analysis.outcome}" if title else f"outcome: {analysis.outcome}")
    fixed_margins(fig, left=1.0, between_x=1.0)  # room for each panel's y label
    return fig


def save_figure(fig: Figure, path) -> None:
    """Save as PNG (atomically: a reader never sees half an image) and release the figure's memory."""
    png = io.BytesIO()
    try:
        fig.savefig(png, format="png", dpi=110)
    finally:
        plt.close(fig)
    make_folder(path.parent)
    write_atomic(path, png.getvalue())
