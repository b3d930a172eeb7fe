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


@pytest.mark.parametrize("name,momentum", [("adamw", 0.0), ("adam", 0.0), ("sgd", 0.9)])
def test_the_stacked_optimizer_moves_each_member_as_its_own_torch_optimizer(name, momentum):
    import torch

    from groklab.config.schema import OptimCfg
    from groklab.optim import build_optimizer
    from groklab.train.stacked_optim import StackedOptimizer, group_hyperparameters

    members = [OptimCfg(name=name, lr=lr, weight_decay=wd, momentum=momentum, embedding_lr=elr,
                        weight_decay_vectors=vectors)
               for lr, wd, elr, vectors in ((1e-2, 0.0, None, True), (3e-3, 1.0, 1e-3, False), (1e-3, 0.1, 3e-2, True))]
    models = [torch.nn.ModuleDict({"embed": torch.nn.Embedding(5, 3), "out": torch.nn.Linear(3, 2)})
              for _ in members]
    torch.manual_seed(0)
    for model in models:
        for p in model.parameters():
            p.data.normal_()
    own = [build_optimizer(model, cfg) for model, cfg in zip(models, members, strict=True)]
    stacked = {name: torch.nn.Parameter(torch.stack([dict(m.named_parameters())[name].detach() for m in models]))
               for name, _ in models[0].named_parameters()}
    optimizer = StackedOptimizer(stacked, members[0], [group_hyperparameters(m, c) for m, c in zip(models, members,
                                                                                                     strict=True)])
    for _ in range(5):
        grads = {name: torch.randn_like(p) for name, p in stacked.items()}
        for i, (model, opt, cfg) in enumerate(zip(models, own, members, strict=True)):
            for group in opt.param_groups:
                group["lr"] = cfg.lr * group["lr_scale"]
            for param_name, p in model.named_parameters():
                p.grad = grads[param_name][i].clone()
            opt.step()
        for param_name, p in stacked.items():
            p.grad = grads[param_name]
        optimizer.step([cfg.lr for cfg in members])
    for i, model in enumerate(models):
        for param_name, p in model.named_parameters():
            assert torch.allclose(stacked[param_name][i], p, rtol=1e-5, atol=1e-6), (name, i, param_name)
    state = optimizer.member_state(1)
    reference = {param_name: own[1].state[p] for param_name, p in models[1].named_parameters()}
    for param_name, entries in reference.items():
        assert state[param_name].keys() == entries.keys()
        for key, value in entries.items():
            assert torch.allclose(state[param_name][key], value, rtol=1e-5, atol=1e-6), (param_name, key)


def test_a_batched_sweep_equals_its_points_run_one_by_one(tmp_path):
    axes = ["optim.lr=1e-3,3e-3", "optim.weight_decay=0.3,1", "train.steps=60", "eval.every=20", "eval.log_points=0",
            "task.p=23", "model.d_model=32", "model.d_mlp=64", "model.n_heads=2", "train.checkpoint_every=20"]
    lines = []
    batched = api.sweep("nanda2023", axes, out=tmp_path / "batched", report_line=lines.append, batched=True)
    separate = api.sweep("nanda2023", axes, out=tmp_path / "separate", report_line=lambda line: None)
    assert "4 to run as 1 batched computation(s)" in lines[0] and sum("together" in line for line in lines) == 4
    assert len(batched.points) == len(separate.points) == 4
    for (point, mine), (_, theirs) in zip(batched.points, separate.points, strict=True):
        assert mine.config == theirs.config
        got, want = history(mine.run_dir), history(theirs.run_dir)
        assert [r["step"] for r in got] == [r["step"] for r in want] == [0, 20, 40, 60]
        for g, w in zip(got, want, strict=True):
            for key in METRICS:
                tolerance = {"abs": 0.01} if key.endswith("acc") else {"rel": 1e-3, "abs": 1e-4}
                assert g[key] == pytest.approx(w[key], **tolerance), (point.name, g["step"], key)
    assert len({history(run.run_dir)[-1]["param_norm"] for _, run in batched.points}) == 4  # the points differ


@pytest.mark.parametrize("batches", [["train.drop_last=false"], ["train.batch_size=null"]],
                         ids=["ragged-last-minibatch", "full-batches-of-two-sizes"])
def test_points_with_different_training_subsets_equal_their_separate_runs(tmp_path, tiny, batches):
    """Members whose minibatches differ in size are padded with zero-weighted samples: each loss stays its own."""
    from groklab.run.execute import run_batched
    from groklab.train.batched import stack_key

    tiny["train"]["steps"] = 40
    configs = [validate_config(apply_overrides(tiny, [f"task.train_frac={frac}", f"seed={seed}", *batches]))
               for frac, seed in ((0.3, 0), (0.5, 1))]
    assert stack_key(configs[0]) == stack_key(configs[1])
    run_dirs = [tmp_path / f"m{i}" for i in range(2)]
    for run_dir in run_dirs:
        run_dir.mkdir()
    handles = run_batched(configs, run_dirs, show_progress=False)
    for cfg, handle in zip(configs, handles, strict=True):
        single = api.run(cfg, tmp_path / f"single-{handle.run_dir.name}", show_progress=False)
        got, want = history(handle.run_dir), history(single.run_dir)
        assert len(got) == len(want) == 5
        for g, w in zip(got, want, strict=True):
            assert g["train_loss"] == pytest.approx(w["train_loss"], rel=1e-3, abs=1e-4), (cfg.task, g["step"])
            assert g["test_loss"] == pytest.approx(w["test_loss"], rel=1e-3, abs=1e-4), (cfg.task, g["step"])


def test_a_batched_grid_is_shared_among_the_workers_in_even_stacks():
    from pathlib import Path

    from groklab.launch.executor import shared_among

    grid = [[(None, Path(f"p{i}")) for i in range(12)]]
    assert [len(stack) for stack in shared_among(grid, 2)] == [6, 6]
    assert [len(stack) for stack in shared_among(grid, 3)] == [4, 4, 4]
    assert [len(stack) for stack in shared_among(grid + [[(None, Path("q"))]], 2)] == [6, 6, 1]  # by share of jobs
    assert sorted(run_dir.name for stack in shared_among(grid, 5) for _, run_dir in stack) == \
        sorted(run_dir.name for _, run_dir in grid[0])  # every point once
    assert shared_among([], 2) == []
