"""A linear student for regression on real-valued inputs (Levi et al. 2024)."""

from __future__ import annotations

import math

import torch
from torch import nn

from groklab.config.model import LinearCfg
from groklab.models.base import MODELS
from groklab.tasks.base import TaskData


class LinearStudent(nn.Module):
    """y = S x, with S initialized N(0, init_scale^2 / d_in)."""

    def __init__(self, cfg: LinearCfg, d_in: int, d_out: int) -> None:
        super().__init__()
        self.readout = nn.Linear(d_in, d_out, bias=False)
        with torch.no_grad():
            self.readout.weight.normal_(0, cfg.init_scale / math.sqrt(d_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(x)


@MODELS.register("linear")
def build_linear(cfg: LinearCfg, data: TaskData) -> LinearStudent:
    if not data.train_x.is_floating_point():
        raise ValueError("model linear needs real-valued inputs (task linear_teacher), not token ids")
    return LinearStudent(cfg, data.train_x.shape[1], data.n_classes)
