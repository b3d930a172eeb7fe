"""Optimizers and learning-rate schedules by config name."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch

from groklab.config.schema import OptimCfg
from groklab.registry import Registry

Params = Iterable[torch.nn.Parameter]
OPTIMIZERS: Registry[Callable[[Params, OptimCfg], torch.optim.Optimizer]] = Registry("optimizer")
SCHEDULES: Registry[Callable[[float, OptimCfg], float]] = Registry("schedule")

OPTIMIZERS.add("adamw", lambda params, c: torch.optim.AdamW(
    params, lr=c.lr, betas=c.betas, eps=c.eps, weight_decay=c.weight_decay))
OPTIMIZERS.add("adam", lambda params, c: torch.optim.Adam(
    params, lr=c.lr, betas=c.betas, eps=c.eps, weight_decay=c.weight_decay))
OPTIMIZERS.add("sgd", lambda params, c: torch.optim.SGD(
    params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay))

# A schedule maps the fraction of post-warmup training done (0..1) to an lr factor.
SCHEDULES.add("constant", lambda progress, c: 1.0)
SCHEDULES.add("cosine", lambda progress, c: (
    c.min_lr_ratio + (1 - c.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
))


def build_optimizer(params: Params, cfg: OptimCfg) -> torch.optim.Optimizer:
    return OPTIMIZERS.get(cfg.name)(params, cfg)


def lr_at(step: int, total_steps: int, cfg: OptimCfg) -> float:
    """Learning rate for the update that takes the model from `step` to `step + 1`."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    span = max(total_steps - cfg.warmup_steps, 1)
    return cfg.lr * SCHEDULES.get(cfg.schedule)((step - cfg.warmup_steps) / span, cfg)
