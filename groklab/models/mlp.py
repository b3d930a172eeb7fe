"""Fully connected network on one-hot encoded tokens (Gromov 2023; Doshi et al. 2024)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from groklab.config.model import MLPCfg
from groklab.models.activations import ACTIVATIONS
from groklab.models.base import MODELS
from groklab.tasks.base import TaskData


def feedforward(d_in: int, width: int, depth: int, d_out: int, activation: str, bias: bool = True) -> nn.Sequential:
    """`depth` Linear layers d_in -> width -> ... -> d_out with `activation` between them."""
    widths = [d_in] + [width] * (depth - 1) + [d_out]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        if i:
            layers.append(ACTIVATIONS[activation]())
        layers.append(nn.Linear(a, b, bias=bias))
    return nn.Sequential(*layers)


class MLP(nn.Module):
    """`depth` Linear layers on the concatenation of each position's one-hot token, or on real-valued
    features (vocab_size 0, e.g. MNIST pixels)."""

    def __init__(self, cfg: MLPCfg, vocab_size: int, seq_len: int, n_classes: int) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        d_in = seq_len * vocab_size if vocab_size else seq_len
        self.net = feedforward(d_in, cfg.width, cfg.depth, n_classes, cfg.activation, cfg.bias)
        with torch.no_grad():
            for name, param in self.named_parameters():
                if cfg.init_std is not None:
                    param.normal_(0.0, cfg.init_std) if name.endswith("weight") else param.zero_()
                param.mul_(cfg.init_scale)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.is_floating_point():
            return self.net(inputs.to(self.net[0].weight.dtype))
        return self.net[1:](self.first_layer_on_tokens(inputs))

    def first_layer_on_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """The first Linear layer applied to the concatenated one-hots of `tokens`, computed as the sum of the
        weight columns the ones select (the same numbers as the dense product, without its zeros)."""
        first = self.net[0]
        offsets = torch.arange(tokens.shape[-1], device=tokens.device) * self.vocab_size
        hidden = F.embedding(tokens + offsets, first.weight.t()).sum(-2)
        return hidden + first.bias if first.bias is not None else hidden


@MODELS.register("mlp")
def build_mlp(cfg: MLPCfg, data: TaskData) -> MLP:
    return MLP(cfg, data.vocab_size, data.seq_len, data.n_classes)
