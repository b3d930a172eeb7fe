"""The training loss and the accuracy rule of a run, in one place."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from groklab.common.seeding import generator
from groklab.config.schema import RunConfig


def log_stablemax(logits: torch.Tensor) -> torch.Tensor:
    """log StableMax over the last axis: s(x) / sum s, with s(x) = x + 1 for x >= 0 and 1 / (1 - x) below.

    Unlike exp, s grows linearly, so a confident prediction's probability does not round to exactly 1 and its
    gradient does not vanish (no softmax collapse)."""
    s = torch.where(logits >= 0, logits.clamp(min=0) + 1, 1 / (1 - logits.clamp(max=0)))
    return s.log() - s.sum(-1, keepdim=True).log()


class Objective:
    """Per-sample loss and correctness for train.loss and eval.accuracy.

    cross_entropy: logits over the classes. stablemax: cross-entropy of StableMax(logits) (Prieto et al.
    2025). mse: regression onto one-hot classes (or onto real targets of
    regression tasks), averaged over the outputs. template_mse (Liu et al. 2022): each class has a fixed
    random N(0, 1) template of train.template_dim numbers, seeded; the model regresses onto its class's
    template and a prediction is the nearest template."""

    def __init__(self, cfg: RunConfig, device: torch.device | str = "cpu") -> None:
        self.cfg = cfg
        self.templates = None
        if cfg.train.loss == "template_mse":
            self.templates = torch.randn(cfg.task.n_classes, cfg.train.template_dim,
                                         generator=generator(cfg.seed, "templates")).to(device)

    def output_dim(self, n_classes: int) -> int:
        """Width of the model's output layer."""
        return self.cfg.train.template_dim if self.templates is not None else n_classes

    def per_sample(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Loss of each sample, computed in train.loss_dtype."""
        outputs = outputs.to(getattr(torch, self.cfg.train.loss_dtype))
        if self.cfg.train.loss == "cross_entropy":
            return F.cross_entropy(outputs, targets, reduction="none")
        if self.cfg.train.loss == "stablemax":
            return -log_stablemax(outputs).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return (outputs - self._goal(targets, outputs.shape[-1]).to(outputs.dtype)).pow(2).mean(-1)

    def _goal(self, targets: torch.Tensor, n_outputs: int) -> torch.Tensor:
        """What a regression loss pulls the outputs towards: the class template, the one-hot class, or the
        regression task's own target."""
        if self.templates is not None:
            return self.templates[targets]
        return targets if targets.is_floating_point() else F.one_hot(targets, n_outputs)

    def uninformed_loss(self, targets: torch.Tensor, n_outputs: int) -> float:
        """The loss of the best constant prediction on `targets`, what a network that learned nothing about its
        inputs reaches: the entropy of the labels for a classifier (ln C when balanced), the mean squared
        distance of the goals from their mean for a regression loss."""
        if self.cfg.train.loss in ("cross_entropy", "stablemax"):
            share = torch.bincount(targets).double()
            share = share[share > 0] / share.sum()
            return float(-(share * share.log()).sum())
        goal = self._goal(targets, n_outputs).double()
        return float((goal - goal.mean(0)).pow(2).mean())

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean loss over the batch."""
        return self.per_sample(outputs, targets).mean()

    def correct(self, outputs: torch.Tensor, targets: torch.Tensor, losses: torch.Tensor) -> torch.Tensor:
        """Which samples count as correct under eval.accuracy."""
        if self.cfg.eval.accuracy == "loss_below":
            return losses < self.cfg.eval.loss_threshold
        if self.templates is not None:
            return torch.cdist(outputs.to(self.templates.dtype), self.templates).argmin(-1) == targets
        return outputs.argmax(-1) == targets
