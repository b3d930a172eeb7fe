"""Humayun et al.'s progress measures over synthetic series: settling, LC phases, delayed robustness."""

import numpy as np

from groklab.analysis.robustness import complexity_phases, delayed_robustness, settled_step

STEPS = np.arange(0, 2000, 100)


def test_settled_step_is_where_values_stay_near_their_final_value():
    values = np.array([0.1, 0.5, 0.88, 0.91, 0.86, 0.9, 0.9])
    assert settled_step(np.arange(7) * 10, values) == 50  # 0.86 is 0.04 away from 0.9
    assert settled_step(np.arange(3), np.array([0.9, 0.9, 0.9])) == 0


def test_complexity_phases_find_descent_ascent_descent():
    lc = np.concatenate([np.linspace(40, 20, 5), np.linspace(20, 30, 5), np.linspace(30, 12, 10)])
    phases = complexity_phases(STEPS, lc)
    assert phases["trough_step"] == 400 and phases["peak_step"] == 900
    assert np.isclose(phases["rise"], 0.5) and np.isclose(phases["fall"], 0.6)


def test_a_falling_complexity_has_no_rise():
    phases = complexity_phases(STEPS, np.linspace(50, 10, len(STEPS)))
    assert phases["rise"] == 0 and phases["peak_step"] == 0 and np.isclose(phases["fall"], 0.8)


def test_adversarial_rise_after_clean_accuracy_settles_is_late():
    clean = np.minimum(0.9, np.linspace(0.1, 3.0, len(STEPS)))  # 0.86 at step 500, 0.9 from step 600
    adversarial = np.concatenate([np.full(8, 0.1), np.linspace(0.1, 0.6, 12)])  # rises from step 800
    found = delayed_robustness(STEPS, clean, adversarial)
    assert found["clean_settled_step"] == 600
    assert found["late_transition"]["mid_step"] > 1000 and found["delay_ratio"] > 2


def test_adversarial_rise_with_clean_accuracy_is_not_late():
    clean = np.concatenate([np.full(10, 0.1), np.full(10, 0.9)])
    adversarial = np.concatenate([np.full(10, 0.0), np.full(10, 0.5)])
    found = delayed_robustness(STEPS, clean, adversarial)
    assert len(found["adversarial_transitions"]) == 1 and found["late_transition"] is None


def test_probe_figure_panels_follow_the_recorded_columns():
    from groklab.history import History
    from groklab.plots.probes import panel_series, probe_panels

    records = [{"step": s, "train_acc": 1.0, "test_acc": 0.9, "lc_train": 9.0, "lc_test": 8.0, "lc_random": 3.0,
                "lc_train_layer1": 5.0, "lc_train_layer2": 4.0, "adversarial_acc": 0.3} for s in (0, 10)]
    history = History(records)
    panels = probe_panels(history)
    assert [panel.title for panel in panels] == ["local complexity (neurons cut near a point)",
                      "local complexity near training points, per hidden layer", "adversarial vs clean test accuracy"]
    assert panel_series(history, panels[1]) == [("lc_train_layer1", "layer 1"), ("lc_train_layer2", "layer 2")]
    assert [panel.title for panel in probe_panels(
        History([{k: v for k, v in r.items() if not k.startswith("lc_")} for r in records]))] == [
        "adversarial vs clean test accuracy"]
