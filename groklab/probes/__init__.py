"""Probes: extra per-evaluation measurements of the model itself, written into history records.

A probe maps (model, data, cfg) to a dict of named floats; `eval.probes` lists which ones a run records.
"""

from collections.abc import Callable
from typing import Any

from torch import nn

from groklab.registry import Registry
from groklab.tasks.base import TaskData

PROBES: Registry[Callable[[nn.Module, TaskData, Any], dict[str, float]]] = Registry("probe")

from groklab.probes import adversarial, fourier, geometry, norms, rqi  # noqa: E402,F401  (registers)


def measure_probes(model: nn.Module, data: TaskData, cfg: Any) -> dict[str, float]:
    """All of the run's probes merged into one dict."""
    values: dict[str, float] = {}
    for name in cfg.eval.probes:
        values.update(PROBES.get(name)(model, data, cfg))
    return values


__all__ = ["PROBES", "measure_probes"]
