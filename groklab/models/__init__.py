"""Model registry: name -> builder(cfg, data) -> nn.Module mapping inputs [B, T] to logits [B, classes]."""

from collections.abc import Callable
from typing import Any

from torch import nn

from groklab.registry import Registry
from groklab.tasks.base import TaskData

MODELS: Registry[Callable[[Any, TaskData], nn.Module]] = Registry("model")

from groklab.models import linear, mlp, repr_mlp, token_sum_mlp, transformer  # noqa: E402,F401  (registers)


def build_model(cfg: Any, data: TaskData) -> nn.Module:
    """Build the model named by `cfg.name` for the shapes of `data`."""
    return MODELS.get(cfg.name)(cfg, data)


__all__ = ["MODELS", "build_model"]
