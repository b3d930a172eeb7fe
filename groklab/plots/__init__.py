"""Figures from (History, Analysis); no analysis happens here."""

from groklab.plots.compare import plot_comparison
from groklab.plots.curves import plot_curves, save_figure

__all__ = ["plot_comparison", "plot_curves", "save_figure"]
