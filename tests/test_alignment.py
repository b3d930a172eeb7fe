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


def test_groklab_geometry_aligns_a_grokked_runs_measures_and_lists_the_others_apart(tmp_path):
    """Levi et al.'s linear teacher groks in seconds; its model is one linear layer, so the representation its
    output layer reads is the input itself: constant, hence flat, while the logits move."""
    import json

    from groklab import api
    from tests.conftest import groklab_cli

    runs = tmp_path / "runs"
    groklab_cli("run", "levi2023_linear", "--out", str(runs / "probed"), "--quiet", "eval.probes=[representation]",
                check=True)
    groklab_cli("run", "levi2023_linear", "--out", str(runs / "plain"), "--quiet", "eval.probes=[]", check=True)
    found = {r["run"]: r for r in json.loads(groklab_cli("geometry", str(runs), "--json", check=True).stdout)}
    probed, plain = found["probed"], found["plain"]
    assert plain["measures"] == {} and "no representation probe" in plain["reason"]
    assert probed["outcome"] == "grokked" and probed["reason"] is None
    measures = probed["measures"]
    assert {"test_acc", "rep_effective_rank_train", "logit_norm_test", "param_norm"} <= measures.keys()
    assert "logit_margin_test" not in measures  # a regression task has no class margins
    assert measures["rep_effective_rank_train"] == {"time": None, "order": "flat"}
    assert measures["logit_norm_test"]["order"] in ("before", "with", "after")
    text = groklab_cli("geometry", str(runs), check=True).stdout
    assert "rep_effective_rank_train" in text and "plain (levi2023_linear, grokked): not aligned" in text
    assert "None" not in text
    md, page = api.report(runs, tmp_path / "report")
    section = md.read_text().split("## Across papers geometry")[1].split("\n## ")[0]
    assert "| param_norm | before (" in section and "| rep_effective_rank_train | flat |" in section
    assert (tmp_path / "report" / "figures" / "geometry-aligned.png").is_file()
    assert "Across papers geometry" in page.read_text()
