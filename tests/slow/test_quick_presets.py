"""Signature tests: each preset's quick scale reaches the outcome its paper reports."""

import json

import pytest

from groklab import api

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("preset", api.presets(), ids=lambda p: p.id)
def test_quick_scale_reaches_the_reported_outcome(preset, quick_run):
    handle = quick_run(preset.id)
    cfg = handle.result.config
    a = handle.result.analysis
    assert handle.state == "completed"
    assert a.outcome == preset.expected_quick_outcome, json.dumps(a.to_dict(), default=str)
    if a.outcome == "grokked":  # test accuracy crossed clearly after training accuracy
        assert a.delay_ratio >= cfg.analysis.min_delay_ratio
        assert a.final["test_acc"] >= cfg.analysis.generalization_threshold
