"""The replication seeds' four cases, classified and diagnosed from their numbers alone."""

import math

import numpy as np

from groklab.analysis import AnalysisSpec, analyze_history
from groklab.analysis.diagnose import RunFacts, diagnose, trend_forecast
from groklab.analysis.events import steepest_descent_step, transitions
from groklab.history import History, make_record

CHANCE_97 = 1 / 97


def flat_history(final_step, train_acc, test_acc, train_loss, test_loss, points=30):
    steps = np.unique(np.geomspace(1, final_step, points).astype(int))
    return History([make_record(int(s), train_loss=train_loss, train_acc=train_acc, test_loss=test_loss,
                                test_acc=test_acc) for s in [0, *steps]])


def run(history, facts, **spec):
    analysis = analyze_history(history, AnalysisSpec(chance_accuracy=CHANCE_97, **spec))
    return analysis, diagnose(analysis, history, facts)


def test_seed_paper07_cross_entropy_at_ln_97_is_not_learning():
    history = flat_history(300_000, 0.0130, 0.0077, 4.574604, 4.574819)
    analysis, diagnosis = run(history, RunFacts(n_classes=97, loss="cross_entropy", lr=1e-3, total_steps=300_000))
    assert analysis.outcome == "not_learning"
    assert "chance" in diagnosis.summary
    assert any("ln(97)" in e and "uniform" in e for e in diagnosis.evidence)
    assert any("learning rate" in s for s in diagnosis.suggestions)
    assert any("loss" in s and "optimizer" in s for s in diagnosis.suggestions)


def test_seed_paper08_mse_at_mean_prediction_is_not_learning():
    history = flat_history(200_000, 0.0130, 0.0123, 0.010309, 0.010309)
    analysis, diagnosis = run(history, RunFacts(n_classes=97, loss="mse"))
    assert analysis.outcome == "not_learning"
    assert any("mean target" in e for e in diagnosis.evidence)


def test_seed_paper09_memorizing_with_estimate_and_weight_decay_advice():
    steps = np.unique(np.geomspace(1, 100_000, 40).astype(int))
    test_acc = np.clip(0.01 + 0.012 * np.log10(steps), 0, 1)  # slowly rising to ~5.7%
    test_acc[-1] = 0.0572
    history = History([make_record(int(s), train_loss=6e-6, train_acc=1.0, test_loss=0.2145, test_acc=float(a))
                       for s, a in zip(steps, test_acc, strict=True)])
    analysis, diagnosis = run(history, RunFacts(n_classes=10, loss="mse", weight_decay=0.0, total_steps=100_000))
    assert analysis.outcome == "memorizing"
    assert "may grok" in diagnosis.summary
    assert any("weight decay is 0" in s for s in diagnosis.suggestions)
    slope, forecast = trend_forecast(history, 0.95)
    assert slope > 0 and forecast > 100_000


def test_a_test_accuracy_creeping_up_gives_no_forecast_instead_of_an_astronomical_one():
    steps = np.arange(50, 3001, 50)
    test_acc = 0.001 + 0.0015 * np.log10(steps)  # the softmax-collapse run: rising by 0.15% per decade
    history = History([make_record(int(s), train_loss=1e-7, train_acc=1.0, test_loss=38.0, test_acc=float(a))
                       for s, a in zip(steps, test_acc, strict=True)])
    slope, forecast = trend_forecast(history, 0.95)
    assert slope > 1e-3 and forecast is None  # the line reaches 95% only after about 10^630 steps
    analysis, diagnosis = run(history, RunFacts(n_classes=113))
    assert analysis.outcome == "memorizing" and diagnosis.summary


def test_seed_paper03_grokked_with_the_delay():
    records = [(0, 0.01, 0.01), (1400, 1.0, 0.05), (9400, 1.0, 0.3), (13_000, 1.0, 0.99), (40_000, 1.0, 0.9996)]
    history = History([make_record(s, train_loss=0.0048, train_acc=tr, test_loss=0.0103, test_acc=te)
                       for s, tr, te in records])
    analysis, diagnosis = run(history, RunFacts(n_classes=113))
    assert analysis.outcome == "grokked" and analysis.grokking_delay == 11_600
    assert "11600 steps" in diagnosis.summary


def test_memorizing_without_trend_says_so():
    history = flat_history(100_000, 1.0, 0.05, 1e-5, 3.0)
    _, diagnosis = run(history, RunFacts(weight_decay=1.0, total_steps=100_000))
    assert "no sign of generalization" in diagnosis.summary
    assert any("weight_decay=2" in s for s in diagnosis.suggestions)


def test_transitions_finds_each_sharp_rise():
    steps = np.array([0, 10, 100, 200, 300, 400, 500, 600, 700, 800])
    acc = np.array([0, 0, 0.1, 0.5, 0.9, 0.3, 0.2, 0.6, 0.95, 0.96])
    found = transitions(steps, acc)
    assert [(t["start_step"], t["end_step"]) for t in found] == [(10, 300), (500, 800)]
    assert transitions(steps, np.full(10, 0.5)) == []


def test_steepest_descent_of_test_loss():
    steps = np.array([0, 1, 10, 100, 1000, 10_000])
    loss = np.array([5, 5, 4.9, 4.8, 0.01, 0.005])
    assert steepest_descent_step(steps, loss) == round(math.sqrt(100 * 1000))


def test_verdict_scores_only_canonical_runs_against_the_paper():
    from groklab.analysis import verdict

    records = [(0, 0.01, 0.01), (1400, 1.0, 0.05), (13_000, 1.0, 0.99)]
    history = History([make_record(s, train_loss=0.1, train_acc=tr, test_loss=0.1, test_acc=te)
                       for s, tr, te in records])
    analysis = analyze_history(history)
    assert verdict(analysis, "quick", "grokked", 13_000, 2.0).status == "not_scored"
    assert verdict(analysis, "canonical", "grokked", 13_000, 2.0).status == "replicated"
    assert verdict(analysis, "canonical", "grokked", 1_000, 2.0).status == "not_replicated"
    assert verdict(analysis, "canonical", "memorizing").status == "not_replicated"
