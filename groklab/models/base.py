"""The model registry: name -> builder(cfg, data) -> nn.Module; builders add themselves on import."""

from collections.abc import Callable
from typing import Any

from torch import nn

from groklab.registry import Registry
from groklab.tasks.base import TaskData

MODELS: Registry[Callable[[Any, TaskData], nn.Module]] = Registry("model")
