"""Several configs trained as one computation: the seeds of one config, or the points of a sweep that differ only
in per-member values (MEMBER_FIELDS: seed, learning rates, weight decays, initial scale, training subset).

The members' parameters are stacked along a leading member axis; one forward and backward pass through
torch.func.vmap computes every member's loss and gradients, and one StackedOptimizer updates the stacked tensors
with each member's own learning rate and weight decay. Adam, AdamW and SGD update element by element, so the
stacked optimizer is N independent ones up to float rounding; gradient clipping, ⊥Grad and the Grokfast filters
work per member. Each member keeps its own data split, initialization, batch order and run folder (history,
status, checkpoints), which a normal `groklab run --resume` can continue.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from torch.func import functional_call, vmap

from groklab.config import config_to_dict, flat_config
from groklab.config.schema import RunConfig
from groklab.optim import lr_at
from groklab.train.cuda_graph import stepper
from groklab.train.gradients import GradientPipeline
from groklab.train.preemption import Preemption
from groklab.train.stacked_optim import STACKABLE, StackedOptimizer, group_hyperparameters
from groklab.train.trainer import RunRecorder, Training, TrainResult, resolve_device, set_up

# What members of one stacked computation may differ in: per-member scalars, and (with minibatches of one size)
# the training subset. Anything else changes the computation's shapes or its shared settings.
MEMBER_FIELDS = ("seed", "optim.lr", "optim.weight_decay", "optim.embedding_lr", "optim.embedding_weight_decay",
                 "model.init_scale", "task.train_frac", "task.n_train")


def stack_key(cfg: RunConfig) -> str:
    """Configs with equal keys can be trained as one stacked computation: everything but MEMBER_FIELDS must
    match."""
    shared = {key: value for key, value in flat_config(config_to_dict(cfg)).items() if key not in MEMBER_FIELDS}
    return json.dumps(shared, sort_keys=True, default=str)


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
    if cfg.optim.name not in STACKABLE:
        return f"optimizer {cfg.optim.name} (only element-wise optimizers stack)"
    return None


class StackedTraining:
    """N members' models as one: parameters stacked on dimension 0, losses and gradients through vmap."""

    def __init__(self, trainings: list[Training]) -> None:
        self.trainings = trainings
        first = trainings[0]
        self.cfg, self.template, self.objective = first.cfg, first.model, first.objective
        self.stacked = copy.deepcopy(self.template)
        for name, _ in self.template.named_parameters():
            owner, _, leaf = name.rpartition(".")
            members = [dict(t.model.named_parameters())[name].detach() for t in trainings]
            setattr(self.stacked.get_submodule(owner), leaf, torch.nn.Parameter(torch.stack(members)))
        self.params = dict(self.stacked.named_parameters())
        self.buffers = dict(self.template.named_buffers())
        for training in trainings[1:]:
            for name, buffer in training.model.named_buffers():
                if not torch.equal(buffer, self.buffers[name]):
                    raise ValueError(f"buffer {name} differs between members: they cannot be batched")
        self.losses = vmap(self._loss)
        self.weighted_losses = vmap(self._weighted_loss)
        self._full_batch = None
        if all(t.order.size == t.order.n for t in trainings):  # full batch: the same tensors every step
            self._full_batch = self._batch(0)
        self._lay_out_as_gradients()
        self.optimizer = StackedOptimizer(self.params, self.cfg.optim,
                                          [group_hyperparameters(t.model, t.cfg.optim) for t in trainings])
        self.gradients = GradientPipeline(self.cfg.optim, stacked=True)

    def _lay_out_as_gradients(self) -> None:
        """Store each stacked parameter in the memory layout its gradient arrives in (same values). Under vmap a
        linear layer's weight gradient comes out transposed (a batched x^T g, transposed back); autograd keeps a
        gradient that matches its parameter's layout and copies one that does not, a slow transposing copy that
        cost as much as the matmul itself (docs/performance.md)."""
        arriving: dict[str, tuple[int, ...]] = {}

        def note_layout(name: str) -> Callable[[torch.Tensor], None]:
            return lambda grad: arriving.__setitem__(name, grad.stride())

        hooks = [p.register_hook(note_layout(name)) for name, p in self.params.items()]
        try:
            self._losses(*self.batch(0)).sum().backward()
        finally:
            for hook in hooks:
                hook.remove()
        for name, p in self.params.items():
            p.grad = None
            if name in arriving and arriving[name] != p.stride():
                p.data = torch.empty_strided(p.shape, arriving[name], dtype=p.dtype, device=p.device).copy_(p.data)

    def _loss(self, params: dict[str, torch.Tensor], inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.objective.loss(functional_call(self.template, (params, self.buffers), (inputs,)), targets)

    def _weighted_loss(self, params: dict[str, torch.Tensor], inputs: torch.Tensor, targets: torch.Tensor,
                       weights: torch.Tensor) -> torch.Tensor:
        outputs = functional_call(self.template, (params, self.buffers), (inputs,))
        return (self.objective.per_sample(outputs, targets) * weights).sum()

    def _batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Every member's minibatch `step`, stacked. Members whose minibatches differ in size (other training
        subsets: another full batch, another last batch of an epoch) are padded with copies of their first
        sample weighted 0, the others weighted 1/size: each member's loss is still the mean over its own batch."""
        batches = [t.order.batch(step) for t in self.trainings]
        size = max(len(y) for _, y in batches)
        if all(len(y) == size for _, y in batches):
            return torch.stack([x for x, _ in batches]), torch.stack([y for _, y in batches]), None
        pad = lambda t: torch.cat([t, t[:1].expand(size - len(t), *t.shape[1:])])  # noqa: E731
        weights = torch.stack([(torch.arange(size) < len(y)).to(torch.float32) / len(y) for _, y in batches])
        return (torch.stack([pad(x) for x, _ in batches]), torch.stack([pad(y) for _, y in batches]),
                weights.to(batches[0][1].device))

    def step(self, step: int) -> torch.Tensor:
        """One update of every member on its own minibatch `step`; returns the sum of their losses."""
        self.set_lr(step)
        return self.update(*self.batch(step))

    def set_lr(self, step: int) -> None:
        self.optimizer.set_lrs([lr_at(step, t.cfg.train.steps, t.cfg.optim) for t in self.trainings])

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        return self._full_batch or self._batch(step)

    def update(self, inputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        """Every member's forward, backward, gradient pipeline and optimizer step (what a CUDA graph captures)."""
        # members do not interact: the sum of their separate losses
        losses = self._losses(inputs, targets, weights)
        self.optimizer.zero_grad()
        total = losses.sum()
        total.backward()
        self.gradients.apply(self.params.items())
        self.optimizer.update()
        return total.detach()

    def _losses(self, inputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        """Every member's loss on its minibatch."""
        if weights is None:
            return self.losses(self.params, inputs, targets)
        return self.weighted_losses(self.params, inputs, targets, weights)

    def make_capturable(self) -> None:
        self.optimizer.make_capturable()

    @torch.no_grad()
    def unstack_parameters(self, member: int) -> None:
        """Copy member `member`'s parameters into its own model (for its evaluation, which then works exactly as
        in a single run)."""
        for name, param in self.trainings[member].model.named_parameters():
            param.copy_(self.params[name][member])

    def unstack_state(self, member: int) -> None:
        """Copy member `member`'s optimizer state and gradient-filter memory into its own optimizer and pipeline
        (for its checkpoint, a normal single-run checkpoint)."""
        training = self.trainings[member]
        names = {id(p): name for name, p in training.model.named_parameters()}
        own = training.optimizer.state_dict()
        order = [names[id(p)] for group in training.optimizer.param_groups for p in group["params"]]
        state = self.optimizer.member_state(member)
        training.optimizer.load_state_dict({"state": {i: state[name] for i, name in enumerate(order) if name in state},
                                            "param_groups": own["param_groups"]})
        training.gradients.load_state_dict(self.gradients.state_dict(member))


def train_batched(cfgs: list[RunConfig], run_dirs: list[Path], show_progress: bool = True) -> list[TrainResult]:
    """Train configs that differ only in MEMBER_FIELDS (equal stack_key) as one batched computation, each into
    its prepared run folder (holding config.yaml). A member that finishes early (train.stop_at_test_acc,
    divergence) stops being recorded while the others go on."""
    reasons = {unbatchable_reason(cfg) for cfg in cfgs} - {None}
    if reasons:
        raise ValueError(f"these configs cannot be batched: {', '.join(sorted(reasons))}")
    if len({stack_key(cfg) for cfg in cfgs}) > 1:
        raise ValueError("these configs differ in more than " + ", ".join(MEMBER_FIELDS)
                         + ": they cannot be one batched computation")
    device = resolve_device(cfgs[0].device)
    setups = [set_up(cfg, device) for cfg in cfgs]
    stacked = StackedTraining([training for _, training in setups])
    label = f"{cfgs[0].preset or 'run'} ({len(cfgs)} batched)"
    recorders = [RunRecorder(cfg, run_dir, data, training, False, show_progress and i == 0, label=label,
                             before_checkpoint=partial(stacked.unstack_state, i))
                 for i, (cfg, run_dir, (data, training)) in enumerate(zip(cfgs, run_dirs, setups, strict=True))]
    results: dict[int, TrainResult] = {}
    steps = stepper(stacked, cfgs[0], device)
    step = 0
    with Preemption() as preemption:
        try:
            while len(results) < len(recorders):
                for member, recorder in enumerate(recorders):
                    if member not in results and recorder.due(step):
                        stacked.unstack_parameters(member)
                        if recorder.at(step):
                            results[member] = TrainResult(recorder.state, step)
                if len(results) == len(recorders):
                    break
                if preemption.signal:
                    for member in set(range(len(recorders))) - results.keys():
                        stacked.unstack_parameters(member)
                        recorders[member].preempt(step, preemption.name)
                        results[member] = TrainResult("preempted", step, preemption.name)
                    break
                steps.step(step)
                step += 1
                recorders[0].progress.step(step)
        finally:
            for recorder in recorders:
                recorder.close()
    return [results[member] for member in range(len(recorders))]
