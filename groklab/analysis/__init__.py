"""Pure analysis of histories: events, outcome, diagnosis, verdict. No I/O, no plotting."""

from groklab.analysis.compare import Verdict, aggregate, verdict
from groklab.analysis.diagnose import Diagnosis, RunFacts, diagnose
from groklab.analysis.events import (
    delay_ratio,
    generalization_step,
    grokking_delay,
    memorization_step,
    steepest_descent_step,
    transitions,
)
from groklab.analysis.outcome import OUTCOMES, Analysis, AnalysisSpec, analyze_history, classify

__all__ = [
    "OUTCOMES", "Analysis", "AnalysisSpec", "Diagnosis", "RunFacts", "Verdict", "aggregate", "analyze_history",
    "classify",
    "delay_ratio", "diagnose", "generalization_step", "grokking_delay", "memorization_step",
    "steepest_descent_step", "transitions", "verdict",
]
