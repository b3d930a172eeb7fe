"""The training loop on real tiny runs: divergence, early stop, evaluation schedule."""

import copy

import pytest
import torch

from groklab import api
from groklab.config import apply_overrides, validate_config
from groklab.config.schema import EvalCfg
from groklab.history import load_history
from groklab.optim import build_optimizer
from groklab.train.schedule import eval_steps


def run(tmp_path, tiny, overrides):
    cfg = validate_config(apply_overrides(tiny, overrides))
    return api.run(cfg, tmp_path / "run", show_progress=False)


def test_non_finite_loss_stops_the_run_as_diverged(tmp_path, tiny):
    handle = run(tmp_path, tiny, ["optim.name=sgd", "optim.lr=1e30", "optim.warmup_steps=0"])
    assert handle.state == "diverged" and handle.result.analysis.outcome == "diverged"
    history = load_history(handle.run_dir)
    assert history.records[-1]["train_loss"] is None  # non-finite written as null, strict JSON kept
    assert history.steps[-1] < tiny["train"]["steps"]  # stopped early
    assert "diverged" in handle.result.diagnosis.summary


def test_stop_at_test_accuracy_ends_the_run_at_that_evaluation(tmp_path, tiny):
    handle = run(tmp_path, tiny, ["train.stop_at_test_acc=0.05"])  # chance is 1/23, reached almost at once
    history = load_history(handle.run_dir)
    assert history.column("test_acc")[-1] >= 0.05
    assert (history.column("test_acc")[:-1] < 0.05).all()
    assert handle.state == "completed"


def test_a_run_stuck_at_the_uninformed_loss_stops_early_and_says_why(tmp_path, tiny):
    # decoupled weight decay of 0.9 per step holds every weight near 0: the outputs carry nothing (ln 23)
    tiny["eval"]["every"] = 50
    handle = run(tmp_path, tiny, ["optim.weight_decay=300", "train.steps=20000", "train.stop_when_not_learning=1000"])
    last = int(load_history(handle.run_dir).steps[-1])
    assert handle.state == "completed" and handle.result.analysis.outcome == "not_learning"
    assert 1000 <= last <= 1200  # the window after the first stuck evaluation, not the 20000-step budget
    [summary] = api.status(handle.run_dir)
    assert summary.state.note.startswith("stopped early: the training loss has stayed within 1% of")
    assert any("stopped early at step" in line for line in handle.result.diagnosis.evidence)


def test_a_memorizing_run_is_never_stuck_and_the_uninformed_loss_is_the_best_constant_one(tiny):
    import math

    import numpy as np

    from groklab.analysis.plateau import stuck_since
    from groklab.objective import Objective

    steps, at_chance = np.arange(0, 1000, 100), np.full(10, math.log(23))
    assert stuck_since(steps, at_chance, np.full(10, 0.05), math.log(23), 0.99) == 0
    assert stuck_since(steps, at_chance, np.full(10, 1.0), math.log(23), 0.99) is None  # memorized
    moved = at_chance.copy()
    moved[4] = 1.0
    assert stuck_since(steps, moved, np.full(10, 0.05), math.log(23), 0.99, after=0) == 500
    labels = torch.arange(23).repeat(4)
    cross_entropy = Objective(validate_config(tiny))
    assert cross_entropy.uninformed_loss(labels, 23) == pytest.approx(math.log(23))
    mse = Objective(validate_config(apply_overrides(tiny, ["train.loss=mse"])))
    assert mse.uninformed_loss(labels, 23) == pytest.approx((1 / 23) * (1 - 1 / 23))


def test_eval_schedule_is_dense_early_and_includes_both_ends():
    steps = eval_steps(10_000, EvalCfg(every=1000, log_points=20))
    assert steps[0] == 0 and steps[-1] == 10_000 and 5000 in steps
    assert sum(s < 100 for s in steps) >= 5 and steps == sorted(set(steps))


def test_accuracy_through_a_per_sample_loss_threshold(tmp_path, tiny):
    import pytest

    from groklab.config import ConfigError

    with pytest.raises(ConfigError, match="needs eval.loss_threshold"):
        validate_config(apply_overrides(tiny, ["eval.accuracy=loss_below"]))
    loose = run(tmp_path / "loose", tiny, ["train.loss=mse", "eval.accuracy=loss_below", "eval.loss_threshold=10"])
    strict = run(tmp_path / "strict", tiny, ["train.loss=mse", "eval.accuracy=loss_below", "eval.loss_threshold=1e-9"])
    assert (load_history(loose.run_dir).column("train_acc") == 1.0).all()  # every sample's MSE is below 10
    assert (load_history(strict.run_dir).column("test_acc") == 0.0).all()  # and none is below 1e-9


@pytest.mark.parametrize("name", ["adamw", "adam", "sgd"])
def test_optimizers_update_exactly_as_torchs_per_parameter_loop(name, tiny):
    # the registry asks for the foreach kernels (faster for small models); they must not change a single bit
    tiny["optim"].update(name=name, momentum=0.9 if name == "sgd" else 0.0, weight_decay=0.1)
    cfg = validate_config(tiny).optim
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.GELU(), torch.nn.Linear(16, 3))
    twin = copy.deepcopy(model)
    ours = build_optimizer(model, cfg)
    loop_class = torch.optim.SGD if name == "sgd" else torch.optim.Adam  # Adam takes AdamW's defaults too
    loop = loop_class(twin.parameters(), **{**ours.defaults, "foreach": False})
    x, y = torch.randn(32, 6), torch.randint(3, (32,))
    for _ in range(5):
        for net, opt in ((model, ours), (twin, loop)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
    assert ours.defaults["foreach"] is True
    for mine, theirs in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(mine, theirs)


@pytest.mark.parametrize("drop_last", [True, False])
def test_batch_order_keeps_or_drops_each_epochs_last_batch(drop_last):
    from groklab.tasks import TaskData
    from groklab.train.trainer import BatchOrder

    data = TaskData(train_x=torch.arange(10).unsqueeze(1), train_y=torch.arange(10), test_x=torch.zeros(1, 1),
                    test_y=torch.zeros(1), vocab_size=10, seq_len=1, n_classes=10)
    order = BatchOrder(data, 4, seed=0, drop_last=drop_last)
    epoch = [order.batch(step)[1] for step in range(order.per_epoch)]
    assert [len(b) for b in epoch] == ([4, 4] if drop_last else [4, 4, 2])
    seen = torch.cat(epoch).tolist()
    assert len(set(seen)) == len(seen) and (len(seen) == 10) != drop_last  # no repeats; all rows when kept
    assert not torch.equal(order.batch(order.per_epoch)[1], epoch[0])  # the next epoch reshuffles
