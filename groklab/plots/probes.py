"""Probe series of one run (RQI, neuron IPR, last-layer norm, local complexity, adversarial accuracy, progress
measures, softmax collapse) next to the accuracies, Slingshots marked."""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from groklab.analysis import Analysis
from groklab.history import History
from groklab.plots.curves import COLORS, step_axis
from groklab.plots.layout import fixed_margins
from groklab.plots.series import Skipped, draw_line, set_scales
from groklab.probes import Panel, all_panels

TASK_PANELS = (Panel("accuracy per evaluation split", (("acc_*", ""), ("test_acc", "test"))),)  # knowledge graphs
SERIES_COLORS = {"train": COLORS["train"], "test": COLORS["test"], "clean test": COLORS["test"],
                 "random": "tab:gray", "adversarial": "tab:purple", "": "tab:purple", "restricted": "tab:green",
                 "excluded": "tab:purple", "embedding": "tab:green", "neuron-logit map": "tab:purple",
                 "loss rounds to 0": "tab:red", "gradient exactly 0": "black"}


def _columns(history: History, name: str, label: str) -> list[tuple[str, str]]:
    if name.endswith("*"):
        prefix = name[:-1]
        return [(c, label + c.removeprefix(prefix)) for c in sorted(history.series_names)
                if c.startswith(prefix) and history.has(c)]
    return [(name, label)] if history.has(name) else []


def panel_series(history: History, panel: Panel) -> list[tuple[str, str]]:
    """The (column, label) pairs of `panel` that this history records, wildcards expanded."""
    return [pair for name, label in panel.series for pair in _columns(history, name, label)]


def probe_panels(history: History) -> list[Panel]:
    """The panels (of every probe, and of tasks with several evaluation splits) this history has data for, in the
    order in which their first series were first recorded (the run's eval.probes order). Any record may lack a
    series (probes measured at some evaluations only, a damaged record): the order is that of the whole history."""
    order = {name: i for i, name in enumerate(history.series_names)}
    first = {panel: _columns(history, *panel.series[0]) for panel in (*all_panels(), *TASK_PANELS)}
    return sorted((panel for panel, columns in first.items() if columns),
                  key=lambda panel: order.get(first[panel][0][0], len(order)))

PANELS_PER_ROW = 4
PHASE_COLORS = {"memorization_phase": "tab:blue", "circuit_formation_phase": "tab:orange", "cleanup_phase": "tab:green"}


def plot_probes(history: History, analysis: Analysis, title: str = "", phases: dict | None = None,
                skipped: Skipped | None = None) -> Figure:
    """One panel per probe series over steps, plus accuracies, four panels a row; with Slingshots, the training
    loss (log y) and each cycle's spike as a vertical line; `phases` (name -> [start, end] steps, e.g. Nanda et al.'s
    memorization, circuit formation and cleanup) shaded in every panel. A series the history holds no value of
    is left out, and a log panel without a positive value drawn linear, each stated in `skipped`."""
    skipped = Skipped() if skipped is None else skipped
    steps = history.steps
    shown, xscale = step_axis(steps)
    names = probe_panels(history)
    cycles = analysis.slingshots or []
    panels = names + (["train_loss"] if analysis.slingshots is not None else []) + ["accuracy"]
    columns = min(len(panels), PANELS_PER_ROW)
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.4 * rows + 0.6), squeeze=False)
    for unused in axes.flat[len(panels):]:
        unused.set_axis_off()
    draw = {"figure": "probes", "skipped": skipped}
    scale = {"figure": "probes", "skipped": skipped}
    xscale = xscale if not cycles else "linear"
    for ax, panel in zip(axes.flat[:len(panels)], panels, strict=True):
        if panel == "accuracy":
            for split in ("train", "test"):
                draw_line(ax, steps, history.column(f"{split}_acc"), shown, series=f"{split}_acc", **draw,
                          color=COLORS[split], label=split)
            set_scales(ax, xscale)
            ax.set(ylim=(-0.02, 1.02), title="accuracy")
        elif panel == "train_loss":
            draw_line(ax, steps, history.column("train_loss"), shown, series="train_loss", **draw,
                      color=COLORS["train"])
            set_scales(ax, xscale, "log", panel="the train loss panel", **scale)
            ax.set(title="train loss")
        else:
            series = panel_series(history, panel)
            for name, label in series:  # probes measured less often than accuracy (eval.probe_every): joined
                draw_line(ax, steps, history.column(name), shown, series=name, measured_only=True, **draw,
                          color=SERIES_COLORS.get(label), label=label or None)
            set_scales(ax, xscale, "log" if panel.log else "linear", panel=f"the panel '{panel.title}'", **scale)
            ax.set(title=panel.title)
            if len(series) > 1 and ax.lines:
                ax.legend(loc="best", fontsize=8)
        for cycle in cycles:
            ax.axvline(cycle["spike_step"], color="tab:orange", linewidth=0.8, alpha=0.6)
        for name, span in (phases or {}).items():
            if span:
                ax.axvspan(max(span[0], 1), span[1], color=PHASE_COLORS.get(name, "tab:gray"), alpha=0.12,
                           label=name.removesuffix("_phase").replace("_", " ") if panel == "accuracy" else None)
        if panel == "accuracy" and ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower right", fontsize=8)
        ax.set(xlabel="step")
    note = f"  ·  {len(cycles)} Slingshot cycles (orange)" if analysis.slingshots is not None else ""
    fig.suptitle(f"{title}{note}")
    fixed_margins(fig)
    return fig


def plot_neuron_spectra(trained: np.ndarray, analytic: np.ndarray, title: str = "") -> Figure:
    """Heat maps of each hidden neuron's share of power per frequency, neurons sorted by top frequency:
    the trained network next to the analytic Fourier solution."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, spectra, name in ((axes[0], trained, "trained network"), (axes[1], analytic, "analytic solution")):
        share = spectra / np.maximum(spectra.sum(1, keepdims=True), 1e-30)
        order = np.lexsort((-share.max(1), share.argmax(1)))
        image = ax.imshow(share[order], aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest",
                          extent=(0.5, share.shape[1] + 0.5, len(order), 0))
        ax.set(xlabel="frequency", ylabel="neuron (sorted by top frequency)", title=name)
    fig.colorbar(image, ax=axes, label="share of the neuron's power")
    fig.suptitle(title)
    return fig
