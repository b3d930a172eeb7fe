"""Slingshot detection on constructed histories (no torch): cycles are counted, quiet curves are not."""

import numpy as np

from groklab.analysis import analyze_history
from groklab.analysis.slingshot import find_slingshots
from groklab.history.reader import History


def history(loss, norm, test_acc=None):
    steps = np.arange(len(loss)) * 10
    test_acc = test_acc if test_acc is not None else np.full(len(loss), 0.1)
    return History([{"step": int(s), "train_loss": float(value), "train_acc": 1.0, "test_loss": 2.0,
                     "test_acc": float(t), "last_layer_norm": float(n)}
                    for s, value, n, t in zip(steps, loss, norm, test_acc, strict=True)])


def two_cycles():
    """Loss decays to 1e-7 while the norm grows, spikes to 1e-1, recovers (norm flat), twice."""
    loss, norm = [], []
    level = 10.0
    for _ in range(2):
        loss += list(np.geomspace(1.0, 1e-7, 30)) + [1e-1, 1e-3, 1e-5] + list(np.geomspace(1e-6, 1e-7, 10))
        norm += list(np.linspace(level, level + 3, 30)) + [level + 3.1] * 13
        level += 3.1
    return np.array(loss), np.array(norm)


def test_two_cycles_are_found_with_norm_growth_and_plateau():
    loss, norm = two_cycles()
    cycles = find_slingshots(history(loss, norm), transitions=[])
    assert len(cycles) == 2
    assert all(c.plateau and c.norm_growth > 0 and c.peak_loss == 0.1 for c in cycles)
    assert cycles[0].spike_step == 300 and cycles[1].spike_step == 730


def test_smooth_training_has_no_slingshot():
    loss = np.geomspace(3.0, 1e-6, 80) * (1 + 0.3 * np.sin(np.arange(80)))  # wiggles far below 100x
    assert find_slingshots(history(loss, np.linspace(5, 9, 80)), transitions=[]) == []


def test_a_spike_without_norm_growth_is_not_a_slingshot():
    loss, _ = two_cycles()
    assert find_slingshots(history(loss, np.full(len(loss), 4.0)), transitions=[]) == []


def test_analysis_lists_slingshots_and_marks_a_coinciding_test_jump():
    loss, norm = two_cycles()
    acc = np.full(len(loss), 0.1)
    acc[74:] = 0.9  # test accuracy jumps right after the second spike (index 73)
    a = analyze_history(history(loss, norm, acc))
    assert [c["test_jump"] for c in a.slingshots] == [False, True]


def test_histories_without_the_norm_have_no_slingshot_field():
    loss, _ = two_cycles()
    plain = History([{k: v for k, v in r.items() if k != "last_layer_norm"} for r in history(loss, loss).records])
    assert analyze_history(plain).slingshots is None
