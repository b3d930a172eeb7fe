"""Probes: extra per-evaluation measurements of the model itself, written into history records.

Each module of this package registers one or more `Probe`s (groklab.probes.base); `eval.probes` lists which
ones a run records. The modules are imported here, so a new probe module needs no other edit.
"""

import importlib
import pkgutil
import time
from typing import Any

from torch import nn

from groklab.config import ConfigError, RunConfig
from groklab.history import History
from groklab.probes.base import PROBES, Panel, Probe
from groklab.registry import RegistryError
from groklab.tasks.base import TaskData

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def probe_problems(cfg: RunConfig) -> list[str]:
    """What is wrong with the run's `eval.probes`: unknown names (with the closest known one) and probes that
    cannot measure this config (with what they need)."""
    problems = []
    for name in cfg.eval.probes:
        try:
            reason = PROBES.get(name).unsupported(cfg)
        except RegistryError as err:
            reason = f"eval.probes: {err}"
        if reason is not None:
            problems.append(reason)
    return problems


def check_probes(cfg: RunConfig) -> RunConfig:
    """`cfg`, or a ConfigError listing every problem of its probes."""
    problems = probe_problems(cfg)
    if problems:
        raise ConfigError(problems)
    return cfg


def probes_due(step: int, cfg: Any) -> bool:
    """Whether the probes are measured at this evaluation (eval.probe_every; always at the last step)."""
    every = cfg.eval.probe_every
    return bool(cfg.eval.probes) and (every is None or step % every == 0 or step == cfg.train.steps)


def measure_probes(model: nn.Module, data: TaskData, cfg: Any, step: int) -> dict[str, float]:
    """All of the run's probes merged into one dict, with probe_s (their wall time) and probe_s/<name> (each
    one's), when they are due."""
    if not probes_due(step, cfg):
        return {}
    start = time.perf_counter()
    values: dict[str, float] = {}
    for name in cfg.eval.probes:
        began = time.perf_counter()
        values.update(PROBES.get(name).measure(model, data, cfg))
        values[f"probe_s/{name}"] = round(time.perf_counter() - began, 4)
    values["probe_s"] = round(time.perf_counter() - start, 4)
    return values


def unknown_probes(cfg: RunConfig) -> list[str]:
    """The names in `eval.probes` that no registered probe has, each with the closest known one (a hand-edited
    or damaged config.yaml, or a run made with a plug-in probe that is not installed here)."""
    problems = []
    for name in cfg.eval.probes:
        try:
            PROBES.get(name)
        except RegistryError as err:
            problems.append(f"eval.probes: {err}")
    return problems


def probe_facts(cfg: RunConfig, history: History) -> dict[str, Any]:
    """The signature facts of the run's probes, from its history (a probe whose series is missing adds none, and so
    does a name no probe has: see unknown_probes)."""
    facts: dict[str, Any] = {}
    for name in cfg.eval.probes:
        if name not in PROBES:
            continue
        probe = PROBES.get(name)
        if probe.facts is not None:
            facts.update(probe.facts(cfg, history))
    return facts


def all_panels() -> list[Panel]:
    """The figure panels of every registered probe."""
    return [panel for name in PROBES.names() for panel in PROBES.get(name).panels]


__all__ = ["PROBES", "Panel", "Probe", "all_panels", "check_probes", "measure_probes", "probe_facts",
           "probe_problems", "unknown_probes"]
