"""Six-panel detail figure of one run: losses, accuracies, gap, parameter norm, learning rate, transition zoom."""

from __future__ import annotations

from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from groklab.analysis import Analysis
from groklab.history import History
from groklab.plots.curves import COLORS, loss_axis_scale, step_axis


def _zoom_window(analysis: Analysis) -> tuple[int, int] | None:
    """Steps around the largest test-accuracy transition, padded by half its width on each side."""
    if not analysis.transitions:
        return None
    biggest = max(analysis.transitions, key=lambda t: t["to_acc"] - t["from_acc"])
    start, end = biggest["start_step"], biggest["end_step"]
    pad = max((end - start) // 2, 1)
    return max(start - pad, 0), end + pad


def plot_detail(history: History, analysis: Analysis, title: str = "") -> Figure:
    """The six panels; step on a log axis except in the zoom, which is linear."""
    steps = history.steps
    shown, xscale = step_axis(steps)
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    (loss_ax, acc_ax, gap_ax), (norm_ax, lr_ax, zoom_ax) = axes
    for split in ("train", "test"):
        loss_ax.plot(steps[shown], history.column(f"{split}_loss")[shown], color=COLORS[split], label=split)
        acc_ax.plot(steps[shown], history.column(f"{split}_acc")[shown], color=COLORS[split], label=split)
    loss_ax.set(yscale=loss_axis_scale(history, shown), title="loss")
    acc_ax.set(title="accuracy", ylim=(-0.02, 1.02))
    gap_ax.plot(steps[shown], (history.column("train_acc") - history.column("test_acc"))[shown], color="tab:purple")
    gap_ax.set(title="generalization gap (train − test accuracy)", ylim=(-0.05, 1.02))
    norm_ax.plot(steps[shown], history.column("param_norm")[shown], color="tab:green")
    norm_ax.set(title="parameter norm (L2)")
    lr_ax.plot(steps[shown], history.column("lr")[shown], color="tab:orange")
    lr_ax.set(title="learning rate")
    for ax in (loss_ax, acc_ax, gap_ax, norm_ax, lr_ax):
        ax.set(xscale=xscale, xlabel="step")
        for step, color in ((analysis.memorization_step, COLORS["train"]),
                            (analysis.generalization_step, COLORS["test"])):
            if step:
                ax.axvline(step, color=color, linestyle="--", linewidth=1, alpha=0.6)
    acc_ax.legend(loc="lower right")
    window = _zoom_window(analysis)
    if window is None:
        zoom_ax.text(0.5, 0.5, "no test-accuracy transition", ha="center", va="center", transform=zoom_ax.transAxes)
        zoom_ax.set_axis_off()
    else:
        inside = (steps >= window[0]) & (steps <= window[1])
        for split in ("train", "test"):
            zoom_ax.plot(steps[inside], history.column(f"{split}_acc")[inside], color=COLORS[split], marker=".")
        zoom_ax.set(title=f"transition, steps {window[0]}–{window[1]}", xlabel="step", ylim=(-0.02, 1.02))
    fig.suptitle(f"{title}  ·  outcome: {analysis.outcome}" if title else f"outcome: {analysis.outcome}")
    fig.tight_layout()
    return fig
