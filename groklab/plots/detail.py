"""Six-panel detail figure of one run: losses, accuracies, gap, parameter norm, learning rate, transition zoom."""

from __future__ import annotations

from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from groklab.analysis import Analysis
from groklab.history import History
from groklab.plots.curves import COLORS, loss_axis_scale, step_axis
from groklab.plots.layout import fixed_margins
from groklab.plots.series import Skipped, draw_line, set_scales


def zoom_window(analysis: Analysis) -> tuple[int, int] | None:
    """Steps around the largest test-accuracy transition, padded by half its width on each side."""
    if not analysis.transitions:
        return None
    biggest = max(analysis.transitions, key=lambda t: t["to_acc"] - t["from_acc"])
    start, end = biggest["start_step"], biggest["end_step"]
    pad = max((end - start) // 2, 1)
    return max(start - pad, 0), end + pad


def plot_detail(history: History, analysis: Analysis, title: str = "", skipped: Skipped | None = None) -> Figure:
    """The six panels; step on a log axis except in the zoom, which is linear. A series the history holds no value
    of is left out and stated in `skipped`."""
    skipped = Skipped() if skipped is None else skipped
    steps = history.steps
    shown, xscale = step_axis(steps)
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    (loss_ax, acc_ax, gap_ax), (norm_ax, lr_ax, zoom_ax) = axes
    columns = {name: history.column(name) for name in ("train_loss", "test_loss", "train_acc", "test_acc",
                                                        "param_norm", "lr")}
    lines = [(loss_ax, f"{split}_loss", dict(color=COLORS[split], label=split)) for split in ("train", "test")]
    lines += [(acc_ax, f"{split}_acc", dict(color=COLORS[split], label=split)) for split in ("train", "test")]
    lines += [(norm_ax, "param_norm", dict(color="tab:green")), (lr_ax, "lr", dict(color="tab:orange"))]
    drawn = {"figure": "detail", "skipped": skipped}
    for ax, name, style in lines:
        draw_line(ax, steps, columns[name], shown, series=name, **drawn, **style)
    draw_line(gap_ax, steps, columns["train_acc"] - columns["test_acc"], shown, series="train_acc - test_acc",
              **drawn, color="tab:purple")
    yscales = {loss_ax: loss_axis_scale(history, shown)}
    for ax in (loss_ax, acc_ax, gap_ax, norm_ax, lr_ax):
        set_scales(ax, xscale, yscales.get(ax, "linear"))
        ax.set(xlabel="step")
        for step, color in ((analysis.memorization_step, COLORS["train"]),
                            (analysis.generalization_step, COLORS["test"])):
            if step:
                ax.axvline(step, color=color, linestyle="--", linewidth=1, alpha=0.6)
    loss_ax.set(title="loss")
    acc_ax.set(title="accuracy", ylim=(-0.02, 1.02))
    gap_ax.set(title="generalization gap (train − test accuracy)", ylim=(-0.05, 1.02))
    norm_ax.set(title="parameter norm (L2)")
    lr_ax.set(title="learning rate")
    if acc_ax.get_legend_handles_labels()[0]:
        acc_ax.legend(loc="lower right")
    window = zoom_window(analysis)
    if window is None:
        zoom_ax.text(0.5, 0.5, "no test-accuracy transition", ha="center", va="center", transform=zoom_ax.transAxes)
        zoom_ax.set_axis_off()
    else:
        inside = (steps >= window[0]) & (steps <= window[1])
        for split in ("train", "test"):
            zoom_ax.plot(steps[inside], columns[f"{split}_acc"][inside], color=COLORS[split], marker=".")
        zoom_ax.set(title=f"transition, steps {window[0]}–{window[1]}", xlabel="step", ylim=(-0.02, 1.02))
    fig.suptitle(f"{title}  ·  outcome: {analysis.outcome}" if title else f"outcome: {analysis.outcome}")
    fixed_margins(fig)
    return fig
