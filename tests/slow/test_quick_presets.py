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


@pytest.mark.parametrize("preset", api.presets(), ids=lambda p: p.id)
def test_no_quick_scale_comes_near_the_not_learning_stop(preset, quick_run):
    """train.stop_when_not_learning is on by default: over each preset's own quick history, the longest stretch
    at the loss of the best constant prediction stays well under its window."""
    from groklab.analysis.plateau import longest_stuck_stretch
    from groklab.objective import Objective
    from groklab.tasks import build_task

    handle = quick_run(preset.id)
    cfg, history = handle.result.config, handle.result.history
    data = build_task(cfg.task, cfg.seed)
    objective = Objective(cfg)
    uninformed = objective.uninformed_loss(data.train_y, objective.output_dim(cfg.task.n_classes))
    stretch = longest_stuck_stretch(history.steps, history.column("train_loss"), history.column("train_acc"),
                                    uninformed, cfg.analysis.memorization_threshold, cfg.optim.warmup_steps)
    assert "stopped_early" not in json.loads((handle.run_dir / "status.json").read_text())
    assert stretch <= cfg.train.stop_when_not_learning / 2, (stretch, uninformed)


@pytest.mark.parametrize("preset", api.presets(), ids=lambda p: p.id)
def test_the_quick_scale_decides_the_claims_it_shows_with_the_papers_bounds(preset, shared_arm):
    """Each claim a preset says its quick scale shows (Preset.quick_claims) holds on the shared quick runs, by
    the paper's bound; a preset whose quick scale shows none says why (Preset.quick_shows)."""
    from groklab.claims import decide

    assert preset.quick_claims or preset.quick_shows, f"{preset.id}: neither quick claims nor what it shows instead"
    for claim in preset.quick_claims:
        runs = {name: shared_arm(preset.id, arm) for name, arm in claim.arms.items()}
        missing = [f"{name} ({arm.name})" for name, arm in claim.arms.items() if runs[name] is None]
        assert not missing, f"{preset.id}:{claim.key}: the shared runs lack {missing} (tests/slow/conftest.py)"
        result = decide(preset.id, claim, [runs])
        assert result.status == "holds", f"{preset.id}:{claim.key}: {result.status}: {result.reason}"
