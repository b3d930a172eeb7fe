"""Several seeds of one config trained as one computation.

The seeds' parameters are stacked along a leading seed axis; one forward and backward pass through
torch.func.vmap computes every seed's loss and gradients, and one optimizer updates the stacked tensors. Adam,
AdamW and SGD update element by element, so the stacked optimizer is exactly N independent ones; gradient
clipping, ⊥Grad and the Grokfast filters work per seed. Each seed keeps its own data split, initialization,
batch order and run folder (history, status, checkpoints), which a normal `groklab run --resume` can continue.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch.func import functional_call, vmap

from groklab.config.schema import RunConfig
from groklab.optim import build_optimizer, lr_at
from groklab.train.gradients import GradientPipeline
from groklab.train.trainer import RunRecorder, Training, TrainResult, resolve_device, set_up


def unbatchable_reason(cfg: RunConfig) -> str | None:
    """Why `cfg`'s seeds cannot share one batched computation, or None when they can."""
    if cfg.train.mask is not None:
        return "train.mask (each seed has its own mask)"
    if cfg.train.fixed_weight_norm:
        return "train.fixed_weight_norm (a per-seed projection after every step)"
    if cfg.train.loss == "template_mse":
        return "train.loss template_mse (each seed has its own class templates)"
    if getattr(cfg.model, "dropout", 0.0):
        return "model.dropout (each seed draws its own dropout masks)"
    if cfg.optim.name not in ("adam", "adamw", "sgd"):
        return f"optimizer {cfg.optim.name} (only element-wise optimizers stack)"
    return None


class StackedTraining:
    """N seeds' models as one: parameters stacked on dimension 0, losses and gradients through vmap."""

    def __init__(self, trainings: list[Training]) -> None:
        self.trainings = trainings
        first = trainings[0]
        self.cfg, self.template, self.objective = first.cfg, first.model, first.objective
        self.stacked = copy.deepcopy(self.template)
        for name, _ in self.template.named_parameters():
            owner, _, leaf = name.rpartition(".")
            seeds = [dict(t.model.named_parameters())[name].detach() for t in trainings]
            setattr(self.stacked.get_submodule(owner), leaf, torch.nn.Parameter(torch.stack(seeds)))
        self.params = dict(self.stacked.named_parameters())
        self.buffers = dict(self.template.named_buffers())
        for training in trainings[1:]:
            for name, buffer in training.model.named_buffers():
                if not torch.equal(buffer, self.buffers[name]):
                    raise ValueError(f"buffer {name} differs between seeds: these seeds cannot be batched")
        self.optimizer = build_optimizer(self.stacked, self.cfg.optim)
        self.gradients = GradientPipeline(self.cfg.optim, stacked=True)
        self.losses = vmap(self._loss)
        self._full_batch = None
        if all(t.order.size == t.order.n for t in trainings):  # full batch: the same tensors every step
            self._full_batch = self._batch(0)

    def _loss(self, params: dict[str, torch.Tensor], inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.objective.loss(functional_call(self.template, (params, self.buffers), (inputs,)), targets)

    def _batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        batches = [t.order.batch(step) for t in self.trainings]
        return torch.stack([x for x, _ in batches]), torch.stack([y for _, y in batches])

    def step(self, step: int) -> None:
        """One update of every seed on its own minibatch `step`."""
        cfg = self.cfg
        lr = lr_at(step, cfg.train.steps, cfg.optim)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group["lr_scale"]
        inputs, targets = self._full_batch or self._batch(step)
        loss = self.losses(self.params, inputs, targets).sum()  # seeds do not interact: sum of separate losses
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.gradients.apply(self.params.items())
        self.optimizer.step()

    @torch.no_grad()
    def unstack(self, seed: int) -> None:
        """Copy seed `seed`'s parameters, optimizer state and gradient-filter memory into its own model,
        optimizer and pipeline (for evaluation and checkpoints, which then work exactly as in a single run)."""
        training = self.trainings[seed]
        for name, param in training.model.named_parameters():
            param.copy_(self.params[name][seed])
        state = self.optimizer.state_dict()
        shapes = [p.shape for group in self.optimizer.param_groups for p in group["params"]]
        per_seed = {index: {key: value[seed] if torch.is_tensor(value) and value.shape == shapes[index] else value
                            for key, value in entry.items()} for index, entry in state["state"].items()}
        training.optimizer.load_state_dict({"state": per_seed, "param_groups": state["param_groups"]})
        training.gradients.load_state_dict(self.gradients.state_dict(seed))


def train_seeds(cfgs: list[RunConfig], run_dirs: list[Path], show_progress: bool = True) -> list[TrainResult]:
    """Train configs that differ only in their seed, as one batched computation, each into its prepared run
    folder (holding config.yaml). A seed that finishes early (train.stop_at_test_acc, divergence) stops being
    recorded while the others go on."""
    reasons = {unbatchable_reason(cfg) for cfg in cfgs} - {None}
    if reasons:
        raise ValueError(f"these seeds cannot be batched: {', '.join(sorted(reasons))}")
    device = resolve_device(cfgs[0].device)
    setups = [set_up(cfg, device) for cfg in cfgs]
    stacked = StackedTraining([training for _, training in setups])
    label = f"{cfgs[0].preset or 'run'} ({len(cfgs)} seeds)"
    recorders = [RunRecorder(cfg, run_dir, data, training, False, show_progress and i == 0, label=label)
                 for i, (cfg, run_dir, (data, training)) in enumerate(zip(cfgs, run_dirs, setups, strict=True))]
    results: dict[int, TrainResult] = {}
    step = 0
    try:
        while len(results) < len(recorders):
            for seed, recorder in enumerate(recorders):
                if seed not in results and recorder.due(step):
                    stacked.unstack(seed)
                    if recorder.at(step):
                        results[seed] = TrainResult(recorder.state, step)
            if len(results) == len(recorders):
                break
            stacked.step(step)
            step += 1
            recorders[0].progress.step(step)
    finally:
        for recorder in recorders:
            recorder.close()
    return [results[seed] for seed in range(len(recorders))]
