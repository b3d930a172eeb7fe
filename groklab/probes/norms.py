"""The norm of the output layer, the quantity whose cycles define a Slingshot (Thilak et al. 2022)."""

from __future__ import annotations

import torch
from torch import nn

from groklab.probes.base import Panel, Probe, register


def output_layer(model: nn.Module) -> nn.Linear:
    """The model's last nn.Linear (the classifier / unembedding)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no Linear layer to take the last-layer norm of")
    return linears[-1]


@torch.no_grad()
def last_layer_norm(model: nn.Module, data, cfg) -> dict[str, float]:
    return {"last_layer_norm": output_layer(model).weight.norm().item()}


register(Probe("last_layer_norm", last_layer_norm, panels=(Panel("last-layer norm", (("last_layer_norm", ""),)),)))
