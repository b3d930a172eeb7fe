"""Outcome classes from synthetic histories (no training)."""

import pytest

from groklab.analysis import AnalysisSpec, analyze_history
from groklab.history import History, make_record


def history(curve):
    """curve: list of (step, train_acc, test_acc[, loss])."""
    records = []
    for step, train_acc, test_acc, *loss in curve:
        value = loss[0] if loss else 1.0
        records.append(make_record(step, train_loss=value, train_acc=train_acc, test_loss=value, test_acc=test_acc))
    return History(records)


GROKKED = [(0, 0.01, 0.01), (100, 1.0, 0.05), (1000, 1.0, 0.2), (5000, 1.0, 0.99)]
GENERALIZED = [(0, 0.01, 0.01), (100, 0.5, 0.5), (200, 1.0, 0.97)]
MEMORIZING = [(0, 0.01, 0.01), (100, 1.0, 0.05), (100_000, 1.0, 0.0572)]
NOT_LEARNING = [(0, 0.01, 0.01), (300_000, 0.013, 0.0077)]


@pytest.mark.parametrize("curve,expected", [
    (GROKKED, "grokked"), (GENERALIZED, "generalized"), (MEMORIZING, "memorizing"), (NOT_LEARNING, "not_learning"),
])
def test_outcome_classes(curve, expected):
    assert analyze_history(history(curve)).outcome == expected


def test_events_and_delay():
    result = analyze_history(history(GROKKED))
    assert (result.memorization_step, result.generalization_step) == (100, 5000)
    assert result.grokking_delay == 4900 and result.delay_ratio == 50
    assert result.final["test_acc"] == 0.99 and result.final["step"] == 5000


def test_non_finite_loss_is_diverged():
    curve = [(0, 0.01, 0.01, 4.5), (100, 0.5, 0.1, float("nan"))]
    assert analyze_history(history(curve)).outcome == "diverged"


def test_running_run_without_verdict_is_incomplete_but_an_early_grok_counts():
    running = AnalysisSpec(state="running")
    assert analyze_history(history(MEMORIZING), running).outcome == "incomplete"
    assert analyze_history(history(GROKKED), running).outcome == "grokked"


def test_thresholds_are_respected():
    strict = AnalysisSpec(generalization_threshold=0.995)
    assert analyze_history(history(GROKKED), strict).outcome == "memorizing"
    short_delay = AnalysisSpec(min_delay_ratio=100)
    assert analyze_history(history(GROKKED), short_delay).outcome == "generalized"
