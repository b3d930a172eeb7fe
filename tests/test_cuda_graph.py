"""train.cuda_graph: the captured step refuses what it cannot capture, its optimizer state stays portable, and on
a CUDA device its losses equal the eager path's (those tests need a GPU and are skipped without one)."""

import copy
import json

import pytest
import torch

from groklab import api
from groklab.common.checkpoint import load_latest
from groklab.config import validate_config
from groklab.config.overrides import apply_overrides
from groklab.train.trainer import portable_optimizer_state, set_up

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="CUDA graphs need a CUDA device; this machine has none")


@pytest.mark.parametrize("overrides,named", [
    (["device=cpu"], "device=cpu"),
    (["device=auto", "optim.name=sgd"], "optim.name=sgd"),
    (["device=auto", "optim.grad_filter=ma"], "optim.grad_filter=ma"),
    (["device=auto", "train.fixed_weight_norm=true"], "train.fixed_weight_norm"),
    (["device=auto", "train.drop_last=false"], "train.drop_last=false"),  # 264 samples, batches of 64
])
def test_a_step_that_cannot_be_captured_is_refused_before_any_work(tiny, overrides, named):
    with pytest.raises(ValueError, match="train.cuda_graph=true cannot capture") as error:
        validate_config(apply_overrides(tiny, ["train.cuda_graph=true", *overrides]))
    assert named in str(error.value) and "train.cuda_graph=false" in str(error.value)


def test_without_a_gpu_device_auto_trains_eagerly(tmp_path, tiny):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: device=auto captures the step there")
    cfg = validate_config(apply_overrides(tiny, ["device=auto", "train.cuda_graph=true", "train.steps=20"]))
    eager = validate_config(apply_overrides(tiny, ["device=auto", "train.steps=20"]))
    got = api.run(cfg, tmp_path / "graph", show_progress=False)
    want = api.run(eager, tmp_path / "eager", show_progress=False)
    assert got.state == "completed"
    assert _losses(got.run_dir) == _losses(want.run_dir)


def test_a_capturable_optimizers_checkpoint_loads_into_an_eager_one(tiny):
    """The state a graphed run saves (tensor learning rates, device step counts) resumes an eager run."""
    _, training = set_up(validate_config(tiny), torch.device("cpu"))
    for step in range(3):
        training.step(step)
    eager_state = copy.deepcopy(training.optimizer.state_dict())
    training.make_capturable()
    assert isinstance(training.optimizer.param_groups[0]["lr"], torch.Tensor)
    saved = portable_optimizer_state(training.optimizer)
    for group, want in zip(saved["param_groups"], eager_state["param_groups"], strict=True):
        assert group["capturable"] is False and isinstance(group["lr"], float)
        assert group["lr"] == pytest.approx(want["lr"], rel=1e-7)  # the device tensor holds it in float32
    _, resumed = set_up(validate_config(tiny), torch.device("cpu"))
    resumed.model.load_state_dict(training.model.state_dict())
    resumed.optimizer.load_state_dict(saved)
    _, reference = set_up(validate_config(tiny), torch.device("cpu"))
    reference.model.load_state_dict(training.model.state_dict())
    reference.optimizer.load_state_dict(eager_state)
    for step in range(3, 6):
        assert torch.equal(resumed.step(step), reference.step(step))


def test_the_capturable_stacked_optimizer_moves_members_as_the_eager_one():
    """Batched seeds under a CUDA graph: the members' learning rates live in a device table (here on the CPU)
    that every step overwrites, and the update counts in device tensors, so a replay follows the schedule and the
    bias corrections; the updates stay those of the eager optimizer."""
    from groklab.config.schema import OptimCfg
    from groklab.train.stacked_optim import StackedOptimizer

    torch.manual_seed(0)
    start = {"w": torch.randn(3, 4, 5), "b": torch.randn(3, 5)}
    hyperparameters = [{"w": (1.0, wd), "b": (1.0, 0.0)} for wd in (0.0, 0.5, 1.0)]
    optimizers, params = [], []
    for _ in range(2):
        members = {name: torch.nn.Parameter(value.clone()) for name, value in start.items()}
        params.append(members)
        optimizers.append(StackedOptimizer(members, OptimCfg(name="adamw", lr=1e-2), hyperparameters))
    for step in range(6):
        if step == 2:
            optimizers[1].make_capturable()  # after two eager steps, as after a graph's warm-up
        grads = {name: torch.randn_like(value) for name, value in start.items()}
        for members, optimizer in zip(params, optimizers, strict=True):
            for name, p in members.items():
                p.grad = grads[name].clone()
            optimizer.step([1e-2 * (step + 1), 3e-3, 1e-3])
    for name in start:
        torch.testing.assert_close(params[1][name], params[0][name], rtol=1e-6, atol=1e-7)
    assert float(optimizers[1].member_state(2)["w"]["step"]) == 6.0


@needs_cuda
@pytest.mark.parametrize("gradients", [[], ["optim.grad_filter=ema", "optim.grad_clip=0.05"]],
                         ids=["plain", "grokfast-clipped"])
def test_graphed_steps_equal_eager_steps_on_cuda(tiny, gradients):
    from groklab.train.cuda_graph import GraphedStep

    cfg = validate_config(apply_overrides(tiny, ["device=cuda", "optim.warmup_steps=10", *gradients]))
    _, eager = set_up(cfg, torch.device("cuda"))
    _, graphed = set_up(cfg, torch.device("cuda"))
    steps = GraphedStep(graphed)
    for step in range(40):  # warm-up, capture at step 3, replays across epoch boundaries (4 batches per epoch)
        want, got = float(eager.step(step)), float(steps.step(step))
        # capturable Adam computes its bias corrections in float32 on the device, eager Adam in double on the host
        assert got == pytest.approx(want, rel=1e-5), step
    for (name, p), q in zip(eager.model.named_parameters(), graphed.model.parameters(), strict=True):
        torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-6, msg=name)


@needs_cuda
def test_graphed_batched_seeds_and_a_graphed_run_equal_their_eager_runs(tmp_path, tiny):
    tiny["device"] = "cuda"
    cfg = validate_config(apply_overrides(tiny, ["train.steps=60", "train.checkpoint_every=20"]))
    graph = cfg.model_copy(update={"train": cfg.train.model_copy(update={"cuda_graph": True})})
    for name, run in (("single", lambda c, out: [api.run(c, out, show_progress=False)]),
                      ("seeds", lambda c, out: api.run_seeds(c, 2, out, show_progress=False))):
        got, want = run(graph, tmp_path / f"{name}-graph"), run(cfg, tmp_path / f"{name}-eager")
        for mine, theirs in zip(got, want, strict=True):
            assert mine.state == "completed"
            assert _losses(mine.run_dir) == pytest.approx(_losses(theirs.run_dir), rel=1e-4)
    # the graphed run's checkpoint (tensor learning rates, device step counts) resumes eagerly on the CPU
    checkpoint = load_latest(tmp_path / "single-graph" / "checkpoints", "cpu")
    _, training = set_up(validate_config({**tiny, "device": "cpu"}), torch.device("cpu"))
    training.model.load_state_dict(checkpoint["model"])
    training.optimizer.load_state_dict(checkpoint["optimizer"])
    assert torch.isfinite(training.step(checkpoint["step"]))


def _losses(run_dir):
    return [json.loads(line)["train_loss"] for line in (run_dir / "history.jsonl").read_text().splitlines()]
