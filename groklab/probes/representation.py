"""Geometry that every model has, so that all presets can be compared on the same axes: the representation the
output layer reads (the answer position's residual stream in a transformer, the last hidden layer of an MLP), the
logits it produces, and the norm of each weight matrix. Definitions in docs/analysis.md."""

from __future__ import annotations

import torch
from torch import nn

from groklab.probes.base import Panel, Probe, register
from groklab.probes.embedding import effective_rank
from groklab.probes.norms import output_layer

SAMPLE = 512  # the first inputs of each split: a fixed sample, the same at every evaluation
LOWER_QUANTILE = 0.1


def centred_rank(features: torch.Tensor) -> float:
    """The effective rank (exp of the entropy of the normalized singular values) of the centred [n, d] features:
    k for a representation spanning k directions with equal spread, 1 for a line, 0 for a single point."""
    centred = features.double() - features.double().mean(0)
    return effective_rank(centred) if centred.any() else 0.0


def participation_ratio(features: torch.Tensor) -> float:
    """(sum of the covariance's eigenvalues)^2 / (sum of their squares): k for k directions of equal variance,
    weighted towards the largest ones more than the effective rank is."""
    variances = torch.linalg.svdvals(features.double() - features.double().mean(0)) ** 2
    total = variances.sum()
    return float(total**2 / (variances**2).sum()) if total > 0 else 0.0


def margins(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per sample, the target's logit minus the largest other logit (positive: classified correctly)."""
    target = logits.gather(1, targets[:, None]).squeeze(1)
    others = logits.scatter(1, targets[:, None], float("-inf"))
    return target - others.max(1).values


def classifies(cfg) -> bool:
    """Whether the model's outputs are per-class scores (margins are then defined)."""
    return cfg.train.loss != "template_mse"


@torch.no_grad()
def representation(model: nn.Module, data, cfg) -> dict[str, float]:
    """Effective rank and participation ratio of the output layer's input, logit norm and margins (mean and
    lower decile) on the first SAMPLE training and test inputs; the norm of every weight matrix."""
    layer = output_layer(model)
    inputs: list[torch.Tensor] = []
    hook = layer.register_forward_hook(lambda _m, args, _out: inputs.append(args[0]))
    values: dict[str, float] = {}
    try:
        for split, x, y in (("train", data.train_x, data.train_y), ("test", data.test_x, data.test_y)):
            inputs.clear()
            logits = model(x[:SAMPLE]).float()
            features = inputs[-1].reshape(-1, inputs[-1].shape[-1]).float()
            values[f"rep_effective_rank_{split}"] = centred_rank(features)
            values[f"rep_participation_ratio_{split}"] = participation_ratio(features)
            values[f"logit_norm_{split}"] = float(logits.norm(dim=-1).mean())
            if y.dim() == 1 and not y.is_floating_point() and classifies(cfg):
                margin = margins(logits, y[:SAMPLE])
                values[f"logit_margin_{split}"] = float(margin.mean())
                values[f"logit_margin_q10_{split}"] = float(torch.quantile(margin, LOWER_QUANTILE))
    finally:
        hook.remove()
    for name, param in model.named_parameters():
        if param.dim() >= 2:
            values[f"weight_norm/{name}"] = float(param.norm())
    return values


register(Probe("representation", representation, panels=(
    Panel("representation: effective rank", (("rep_effective_rank_train", "train"),
                                             ("rep_effective_rank_test", "test"))),
    Panel("representation: participation ratio", (("rep_participation_ratio_train", "train"),
                                                  ("rep_participation_ratio_test", "test"))),
    Panel("logit margin (mean, lower decile)", (("logit_margin_train", "train"), ("logit_margin_test", "test"),
                                                ("logit_margin_q10_train", "train, 10%"),
                                                ("logit_margin_q10_test", "test, 10%"))),
    Panel("logit norm", (("logit_norm_train", "train"), ("logit_norm_test", "test")), log=True),
    Panel("weight norm per layer", (("weight_norm/*", ""),), log=True),
)))
