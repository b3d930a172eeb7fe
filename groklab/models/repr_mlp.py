"""Learned number representations decoded by an MLP (Liu et al. 2022, the toy model of addition)."""

from __future__ import annotations

import torch
from torch import nn

from groklab.config.model import ReprMLPCfg
from groklab.models.base import MODELS
from groklab.models.mlp import feedforward
from groklab.tasks.base import TaskData


class ReprMLP(nn.Module):
    """Each token t has a learnable vector r_t; the decoder sees the sum of the input tokens' vectors."""

    def __init__(self, cfg: ReprMLPCfg, vocab_size: int, n_classes: int) -> None:
        super().__init__()
        self.embed = nn.Parameter((torch.rand(vocab_size, cfg.repr_dim) - 0.5) * cfg.repr_init_scale)
        self.decoder = feedforward(cfg.repr_dim, cfg.width, cfg.depth, n_classes, cfg.activation)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.embed[tokens].sum(1))


@MODELS.register("repr_mlp")
def build_repr_mlp(cfg: ReprMLPCfg, data: TaskData) -> ReprMLP:
    return ReprMLP(cfg, data.vocab_size, data.n_classes)
