"""Activations by config name."""

import torch
from torch import nn


class Quadratic(nn.Module):
    """phi(z) = z**2 (Gromov 2023)."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * z


ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "quadratic": Quadratic}
