"""Activations by config name."""

import torch
from torch import nn


class Quadratic(nn.Module):
    """phi(z) = z**2 (Gromov 2023)."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * z


class GeluTanh(nn.GELU):
    """GELU's tanh approximation (GPT-2's gelu_new)."""

    def __init__(self) -> None:
        super().__init__(approximate="tanh")


ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "gelu": nn.GELU, "gelu_tanh": GeluTanh, "tanh": nn.Tanh, "quadratic": Quadratic}
