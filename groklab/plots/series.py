"""Drawing one series on one axis without letting a damaged or empty series break the figure: a series with no
finite value is left out, a log axis with nothing positive on it is drawn linear, and each is stated."""

from __future__ import annotations

import re

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import LogFormatterSciNotation, LogLocator


class PlainLogFormatter(LogFormatterSciNotation):
    """matplotlib's log tick labels (10³, 2×10¹) as plain text with superscript digits instead of mathtext, whose
    parser took a third of a small run's figure time. A label of another form stays mathtext."""

    def __call__(self, x, pos=None) -> str:
        return plain_power(super().__call__(x, pos))


_MATHTEXT = re.compile(r"^\$\\mathdefault\{(?P<inner>[^$]*)\}\$$")
_POWER = re.compile(r"\^\{(?P<exponent>-?\d+)\}")
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def plain_power(label: str) -> str:
    """'$\\mathdefault{2\\times10^{-3}}$' -> '2×10⁻³'; a label without mathtext, or with other markup, as it is."""
    match = _MATHTEXT.match(label)
    if match is None:
        return label
    inner = _POWER.sub(lambda power: power["exponent"].translate(_SUPERSCRIPT), match["inner"].replace(r"\times", "×"))
    return label if "\\" in inner or "{" in inner else inner.replace("-", "−")


class Skipped:
    """What a run's figures could not draw as asked, one statement per series and reason, naming the figures."""

    def __init__(self) -> None:
        self._figures: dict[tuple[str, str], list[str]] = {}

    def add(self, figure: str, series: str, what: str) -> None:
        """`series` (a history column or a panel) could not be drawn as asked in `figure`: `what` says why and
        what was drawn instead, e.g. 'has no finite value: not drawn'."""
        figures = self._figures.setdefault((series, what), [])
        if figure not in figures:
            figures.append(figure)

    def problems(self) -> list[str]:
        return [f"{series} {what} in the {', '.join(figures)} figure{'s' if len(figures) > 1 else ''}"
                for (series, what), figures in self._figures.items()]

    def __bool__(self) -> bool:
        return bool(self._figures)


NO_FINITE_VALUE = "has no finite value in the history: not drawn"
NO_FINITE_VALUE_AFTER_0 = "has no finite value after step 0 (a log step axis starts after it): not drawn"
NO_POSITIVE_VALUE = "has no positive value for its log axis: drawn on a linear axis"


def draw_line(ax: Axes, steps: np.ndarray, values: np.ndarray, shown: np.ndarray, *, figure: str,
              series: str, skipped: Skipped, measured_only: bool = False, **style) -> bool:
    """Plot `values` over `steps` at the `shown` evaluations (a log step axis leaves out step 0) when at least
    one of them is finite (NaN leaves a gap in the line, or, with `measured_only`, the points that were measured
    are joined); otherwise draw nothing and add it to `skipped`."""
    steps, finite = steps[shown], np.isfinite(values[shown])
    if not finite.any():
        skipped.add(figure, series, NO_FINITE_VALUE_AFTER_0 if np.isfinite(values).any() else NO_FINITE_VALUE)
        return False
    values = values[shown]
    if measured_only:
        steps, values = steps[finite], values[finite]
    ax.plot(steps, values, **style)
    return True


def set_scales(ax: Axes, xscale: str = "linear", yscale: str = "linear", *, figure: str = "", panel: str = "",
               skipped: Skipped | None = None) -> None:
    """Set the axis scales once the series are drawn. A log axis needs a positive finite value on it to place its
    ticks (else matplotlib raises 'Data cannot be log-scaled'): without one it is drawn linear, stated in
    `skipped` for the y axis of a panel that holds data (an empty panel's series are stated already), and an
    empty panel says so."""
    limits = ax.dataLim
    if xscale == "log" and not np.isfinite(limits.minposx):
        xscale = "linear"
    if yscale == "log" and not np.isfinite(limits.minposy):
        if skipped is not None and ax.lines:
            skipped.add(figure, panel, NO_POSITIVE_VALUE)
        yscale = "linear"
    ax.set(xscale=xscale, yscale=yscale)
    for axis, scale in ((ax.xaxis, xscale), (ax.yaxis, yscale)):
        if scale == "log":  # minor ticks at 2 and 5 of each decade, not 2..9: a tick is a costly object to draw
            axis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
            axis.set_major_formatter(PlainLogFormatter())
            axis.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False))
    if not ax.lines:
        ax.text(0.5, 0.5, "nothing to draw", ha="center", va="center", transform=ax.transAxes, color="gray")
