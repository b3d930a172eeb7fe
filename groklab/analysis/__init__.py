"""Pure analysis of histories: events, outcome class. No I/O, no plotting."""

from groklab.analysis.events import delay_ratio, generalization_step, grokking_delay, memorization_step
from groklab.analysis.outcome import OUTCOMES, Analysis, AnalysisSpec, analyze_history, classify

__all__ = [
    "OUTCOMES", "Analysis", "AnalysisSpec", "analyze_history", "classify",
    "delay_ratio", "generalization_step", "grokking_delay", "memorization_step",
]
