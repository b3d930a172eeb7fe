"""Model registry: name -> builder(cfg, data) -> nn.Module mapping inputs [B, T] to logits [B, classes]."""

from typing import Any

from torch import nn

from groklab.models import linear, mlp, repr_mlp, token_sum_mlp, transformer  # noqa: F401  (registers)
from groklab.models.base import MODELS
from groklab.tasks.base import TaskData


def build_model(cfg: Any, data: TaskData) -> nn.Module:
    """Build the model named by `cfg.name` for the shapes of `data`."""
    return MODELS.get(cfg.name)(cfg, data)


__all__ = ["MODELS", "build_model"]
