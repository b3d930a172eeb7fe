"""Figures from (History, Analysis); no analysis happens here."""

from groklab.plots.compare import plot_comparison
from groklab.plots.curves import plot_curves, save_figure
from groklab.plots.detail import plot_detail
from groklab.plots.embedding import plot_embedding_planes
from groklab.plots.probes import plot_neuron_spectra, plot_probes, probe_panels
from groklab.plots.seeds import plot_seed_bands
from groklab.plots.speedup import plot_speedup
from groklab.plots.sweep import (
    plot_final_metrics,
    plot_measured_vs_predicted,
    plot_overlay,
    plot_phase_diagram,
)

__all__ = [
    "plot_comparison", "plot_curves", "plot_detail", "plot_embedding_planes", "plot_final_metrics",
    "plot_measured_vs_predicted", "plot_neuron_spectra", "plot_overlay", "plot_phase_diagram", "plot_probes",
    "plot_seed_bands", "plot_speedup", "probe_panels", "save_figure",
]
