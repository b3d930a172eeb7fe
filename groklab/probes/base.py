"""The probe registry. A probe is one object: how it measures the model, which configs it can measure, the
facts it adds to a finished run's signature and the figure panels its series are drawn in. Each probe module
builds its `Probe` and registers it (`PROBES.add`), so adding a probe is one file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from torch import nn

from groklab.config import RunConfig
from groklab.history import History
from groklab.registry import Registry
from groklab.tasks.base import TaskData


class Panel(NamedTuple):
    """One panel of a run's probes figure: its title, the (history column, legend label) series drawn in it (a
    column ending in * stands for every column with that prefix, labelled by the rest of its name), and whether
    its y axis is logarithmic. The panel is drawn when its first series is recorded."""

    title: str
    series: tuple[tuple[str, str], ...]
    log: bool = False


def measures_anything(cfg: RunConfig) -> str | None:
    """The compatibility rule of a probe that works on every config."""
    return None


@dataclass(frozen=True)
class Probe:
    name: str
    measure: Callable[[nn.Module, TaskData, RunConfig], dict[str, float]]
    """(model, data, cfg) -> {history column: value}, at the evaluations where probes are due."""
    unsupported: Callable[[RunConfig], str | None] = measures_anything
    """Why this probe cannot measure a run of `cfg` (what the config needs, phrased as a fix), or None."""
    facts: Callable[[RunConfig, History], dict[str, Any]] | None = None
    """Facts of a finished run's signature (written into analysis.json) from its history."""
    panels: tuple[Panel, ...] = ()


PROBES: Registry[Probe] = Registry("probe")


def register(probe: Probe) -> Probe:
    """Add `probe` to the registry under its name."""
    return PROBES.add(probe.name, probe)
