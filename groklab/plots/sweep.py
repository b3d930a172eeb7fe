"""Sweep figures: the outcome of every grid point (a phase diagram) and measured vs predicted steps."""

from __future__ import annotations

from collections import Counter

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import NullFormatter

from groklab.analysis import OUTCOMES
from groklab.history import History

OUTCOME_COLORS = {"not_learning": "#9e9e9e", "memorizing": "#e15759", "grokked": "#f28e2b",
                  "generalized": "#59a14f", "diverged": "#222222", "incomplete": "#ffffff"}


def majority(outcomes: list[str]) -> str:
    """The most common outcome of a point's seeds (ties go to the first in OUTCOMES order)."""
    if not outcomes:
        return "incomplete"
    counts = Counter(outcomes)
    return max(OUTCOMES, key=lambda o: (counts[o], -OUTCOMES.index(o)))


def plot_phase_diagram(
    axes: dict[str, list[str]], outcome_at: dict[tuple[str, ...], list[str]], labels: dict[str, str], title: str
) -> Figure:
    """A grid coloured by each point's (majority) outcome; one axis gives a single row.

    `outcome_at` maps a tuple of axis values (in `axes` order) to the outcomes of that point's seeds;
    `labels` renames outcomes (e.g. Liu et al.'s phase names)."""
    keys = list(axes)
    x_key, y_key = keys[0], (keys[1] if len(keys) > 1 else None)
    xs, ys = axes[x_key], (axes[y_key] if y_key else [""])
    codes = np.array([[OUTCOMES.index(majority(outcome_at.get((x, y) if y_key else (x,), []))) for x in xs]
                      for y in ys])
    fig, ax = plt.subplots(figsize=(3.2 + 0.8 * len(xs), 1.8 + 0.55 * len(ys)))
    ax.imshow(codes, cmap=ListedColormap([OUTCOME_COLORS[o] for o in OUTCOMES]), vmin=-0.5,
              vmax=len(OUTCOMES) - 0.5, origin="lower", aspect="auto")
    ax.set_xticks(range(len(xs)), xs, rotation=45, ha="right")
    ax.set_yticks(range(len(ys)), ys)
    ax.set(xlabel=x_key, ylabel=y_key or "", title=title)
    present = [o for o in OUTCOMES if (codes == OUTCOMES.index(o)).any()]
    ax.legend(handles=[Patch(facecolor=OUTCOME_COLORS[o], edgecolor="k", label=labels.get(o, o)) for o in present],
              loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.tight_layout()
    return fig


def plot_measured_vs_predicted(
    points: list[tuple[float, int | None, int | None]], xlabel: str, title: str, agreement: str
) -> Figure:
    """Left: measured and predicted step over the swept parameter; right: measured against predicted.

    `points` holds (parameter value, measured step, predicted step)."""
    fig, (over, diag) = plt.subplots(1, 2, figsize=(10, 4))
    done = [(x, m, p) for x, m, p in points if m is not None and p is not None]
    if done:
        x, measured, predicted = (np.array(v, dtype=float) for v in zip(*sorted(done), strict=True))
        over.plot(x, predicted, "-", color="tab:gray", label="predicted")
        over.plot(x, measured, "o", color="tab:red", label="measured")
        diag.plot(predicted, measured, "o", color="tab:red")
        span = [min(predicted.min(), measured.min()), max(predicted.max(), measured.max())]
        diag.plot(span, span, "--", color="tab:gray", label="measured = predicted")
        diag.set(xscale="log", yscale="log")
        for axis in (diag.xaxis, diag.yaxis, over.yaxis):
            axis.set_minor_formatter(NullFormatter())
    over.set(xlabel=xlabel, ylabel="generalization step", yscale="log", title=title)
    diag.set(xlabel="predicted step", ylabel="measured step", title=agreement)
    over.legend(frameon=False)
    diag.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_overlay(curves: list[tuple[str, History]], series: list[str], log_scale: set[str], title: str) -> Figure:
    """One panel per series with one line per sweep point (e.g. the last-layer norm for each Adam epsilon)."""
    fig, axes = plt.subplots(1, len(series), figsize=(5.5 * len(series), 4), squeeze=False)
    for ax, name in zip(axes[0], series, strict=True):
        for label, history in curves:
            ax.plot(history.steps, history.column(name), label=label, linewidth=1)
        ax.set(xlabel="step", title=name, yscale="log" if name in log_scale else "linear")
    axes[0][0].legend(frameon=False, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_final_metrics(points: list[tuple[float, dict]], xlabel: str, title: str) -> Figure:
    """Final train and test loss (log) and accuracy against a numeric swept value (log x): for a sweep of the
    initialization scale at fixed weight norm this is Omnigrok's 'LU' picture (train loss L, test loss U)."""
    xs = np.array([x for x, _ in points], dtype=float)
    order = np.argsort(xs)
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for split, color in (("train", "tab:blue"), ("test", "tab:red")):
        loss_ax.plot(xs[order], [points[i][1][f"{split}_loss"] for i in order], "o-", color=color, label=split)
        acc_ax.plot(xs[order], [points[i][1][f"{split}_acc"] for i in order], "o-", color=color, label=split)
    loss_ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="final loss", title=title)
    acc_ax.set(xscale="log", xlabel=xlabel, ylabel="final accuracy", ylim=(-0.02, 1.02))
    for ax in (loss_ax, acc_ax):
        ax.set_xticks(xs[order], [f"{x:g}" for x in xs[order]])
        ax.xaxis.set_minor_formatter(NullFormatter())
    loss_ax.legend(frameon=False)
    fig.tight_layout()
    return fig
