"""Measures against the grokking transition: normalized time and before / with / after, on known trajectories."""

import numpy as np
import pytest

from groklab.analysis.alignment import align, half_change_time, normalized_time, order


def sigmoid(t, centre, width=0.05):
    return 1 / (1 + np.exp(-(t - centre) / width))


def test_normalized_time_is_zero_at_memorization_and_one_at_generalization():
    assert normalized_time(np.array([100, 300, 500, 700]), 300, 700).tolist() == [-0.5, 0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="generalization after memorization"):
        normalized_time(np.array([0, 1]), 500, 400)


def test_the_half_change_time_of_a_step_is_its_centre_and_a_constant_has_none():
    t = np.linspace(-1, 2, 301)
    assert half_change_time(t, 5 - 3 * sigmoid(t, 0.4)) == pytest.approx(0.4, abs=0.01)  # falling works too
    assert half_change_time(t, np.full_like(t, 2.0)) is None
    assert half_change_time(t, 2 + 1e-4 * t) is None  # a drift below 5% of the measure's scale is no change


def test_each_measure_is_placed_before_with_or_after_the_test_accuracy_jump():
    steps = np.arange(0, 3001, 10)
    t = normalized_time(steps, 1000, 2000)
    test_acc = 0.01 + 0.99 * sigmoid(t, 0.9)
    measures = {"early": sigmoid(t, 0.2), "together": 4 - sigmoid(t, 0.95), "late": sigmoid(t, 1.6),
                "constant": np.ones_like(t)}
    aligned = align(steps, measures, test_acc, 1000, 2000)
    assert aligned["test_acc"]["time"] == pytest.approx(0.9, abs=0.02)
    assert {name: aligned[name]["order"] for name in measures} == {
        "early": "before", "together": "with", "late": "after", "constant": "flat"}
    assert order(0.3, None) == "unknown"
