"""The modular-addition MLP of Minegishi et al. 2023 (gouki510/Grokking-Tickets, model.py::OnlyMLP)."""

from __future__ import annotations

import math

import torch
from torch import nn

from groklab.config.model import TokenSumMLPCfg
from groklab.models.base import MODELS
from groklab.tasks.base import TaskData


class TokenSumMLP(nn.Module):
    """tokens -> embed -> in-projection, summed over positions -> ReLU -> out-projection -> unembed."""

    def __init__(self, cfg: TokenSumMLPCfg, vocab_size: int, n_classes: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, cfg.d_embed)
        self.inproj = nn.Linear(cfg.d_embed, cfg.width, bias=False)
        self.outproj = nn.Linear(cfg.width, cfg.d_embed, bias=False)
        self.unembed = nn.Linear(cfg.d_embed, n_classes, bias=False)
        with torch.no_grad():
            self.embed.weight.normal_(0, 1 / math.sqrt(vocab_size))  # fan-in of a one-hot token
            for layer in (self.inproj, self.outproj, self.unembed):
                layer.weight.normal_(0, 1 / math.sqrt(layer.in_features))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(self.inproj(self.embed(tokens)).sum(1))
        return self.unembed(self.outproj(hidden))


@MODELS.register("token_sum_mlp")
def build_token_sum_mlp(cfg: TokenSumMLPCfg, data: TaskData) -> TokenSumMLP:
    return TokenSumMLP(cfg, data.vocab_size, data.n_classes)
