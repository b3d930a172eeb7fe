"""--seeds N as one batched computation equals N separate runs (to float tolerance), folder by folder."""

import json

import pytest

from groklab import api
from groklab.common.checkpoint import load_latest
from groklab.config import validate_config
from groklab.config.overrides import apply_overrides
from groklab.train.batched import unbatchable_reason

METRICS = ("train_loss", "train_acc", "test_loss", "test_acc", "param_norm")


def relative_difference(a, b):
    return float((a - b).norm() / b.norm())


def history(run_dir):
    return [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("gradients", [{}, {"grad_filter": "ema", "orthogonal": True, "grad_clip": 0.05}],
                         ids=["plain", "grokfast-orthogonal-clipped"])
def test_batched_seeds_equal_separate_runs(tmp_path, tiny, gradients):
    tiny["optim"].update(gradients)  # the filter, ⊥Grad and clipping work per seed; clip 0.05 clips most steps
    cfg = validate_config(tiny)
    batched = api.run_seeds(cfg, 3, tmp_path / "batched", show_progress=False)
    assert [h.run_dir.name for h in batched] == ["s0", "s1", "s2"]
    for handle in batched:
        seed = handle.result.config.seed
        single = api.run(cfg.model_copy(update={"seed": seed}), tmp_path / f"single{seed}", show_progress=False)
        got, want = history(handle.run_dir), history(single.run_dir)
        assert [r["step"] for r in got] == [r["step"] for r in want]
        for g, w in zip(got, want, strict=True):
            for key in METRICS:  # accuracies may differ by a sample or two where a logit is a near-tie
                tolerance = {"abs": 0.01} if key.endswith("acc") else {"rel": 1e-3, "abs": 1e-4}
                assert g[key] == pytest.approx(w[key], **tolerance), (seed, g["step"], key)
        assert handle.state == single.state == "completed"
        # the checkpoint is a normal single-run checkpoint: the same tensors, equal up to float drift
        mine = load_latest(handle.run_dir / "checkpoints", "cpu")
        theirs = load_latest(single.run_dir / "checkpoints", "cpu")
        assert mine["step"] == theirs["step"] and mine["optimizer"].keys() == theirs["optimizer"].keys()
        for name, value in theirs["model"].items():
            assert relative_difference(mine["model"][name], value) < 1e-2, name
        for index, state in theirs["optimizer"]["state"].items():
            assert relative_difference(mine["optimizer"]["state"][index]["exp_avg_sq"], state["exp_avg_sq"]) < 5e-2
    assert len({json.dumps(history(h.run_dir)[-1]["test_loss"]) for h in batched}) == 3  # seeds really differ


def test_seeds_that_cannot_be_batched_run_one_after_another(tmp_path, tiny):
    tiny["train"]["fixed_weight_norm"] = True
    tiny["train"]["steps"] = 20
    cfg = validate_config(tiny)
    assert "fixed_weight_norm" in unbatchable_reason(cfg)
    assert "dropout" in unbatchable_reason(validate_config(apply_overrides(tiny, ["train.fixed_weight_norm=false",
                                                                                  "model.dropout=0.1"])))
    handles = api.run_seeds(cfg, 2, tmp_path / "seq", show_progress=False)
    assert [h.state for h in handles] == ["completed", "completed"]
    assert [h.result.config.seed for h in handles] == [0, 1]
