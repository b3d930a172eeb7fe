"""The probe registry: name -> probe(model, data, cfg) -> {measure: value}; probes add themselves on import."""

from collections.abc import Callable
from typing import Any

from torch import nn

from groklab.registry import Registry
from groklab.tasks.base import TaskData

PROBES: Registry[Callable[[nn.Module, TaskData, Any], dict[str, float]]] = Registry("probe")
