"""Figures from (History, Analysis); no analysis happens here."""

from groklab.plots.compare import plot_comparison
from groklab.plots.curves import plot_curves, save_figure
from groklab.plots.detail import plot_detail
from groklab.plots.seeds import plot_seed_bands

__all__ = ["plot_comparison", "plot_curves", "plot_detail", "plot_seed_bands", "save_figure"]
