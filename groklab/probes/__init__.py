"""Probes: extra per-evaluation measurements of the model itself, written into history records.

A probe maps (model, data, cfg) to a dict of named floats; `eval.probes` lists which ones a run records.
"""

import time
from typing import Any

from torch import nn

from groklab.probes import (  # noqa: F401  (registers)
    adversarial,
    collapse,
    embedding,
    fourier,
    geometry,
    norms,
    progress,
    rqi,
)
from groklab.probes.base import PROBES
from groklab.tasks.base import TaskData


def probes_due(step: int, cfg: Any) -> bool:
    """Whether the probes are measured at this evaluation (eval.probe_every; always at the last step)."""
    every = cfg.eval.probe_every
    return bool(cfg.eval.probes) and (every is None or step % every == 0 or step == cfg.train.steps)


def measure_probes(model: nn.Module, data: TaskData, cfg: Any, step: int) -> dict[str, float]:
    """All of the run's probes merged into one dict, with probe_s (their wall time), when they are due."""
    if not probes_due(step, cfg):
        return {}
    start = time.perf_counter()
    values: dict[str, float] = {}
    for name in cfg.eval.probes:
        values.update(PROBES.get(name)(model, data, cfg))
    values["probe_s"] = round(time.perf_counter() - start, 4)
    return values


__all__ = ["PROBES", "measure_probes"]
