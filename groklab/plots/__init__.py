"""Figures from (History, Analysis); no analysis happens here."""

from groklab.plots.compare import plot_comparison
from groklab.plots.curves import plot_curves, save_figure
from groklab.plots.detail import plot_detail

__all__ = ["plot_comparison", "plot_curves", "plot_detail", "save_figure"]
