"""A sweep's grid: the preset scale it starts from, its axes and seeds, and the points they make."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from groklab.config import ConfigError


@dataclass(frozen=True)
class SweepSpec:
    """A preset scale, the grid (dotted key -> override values as written) and the seeds."""

    preset: str
    scale: str
    grid: dict[str, list[str]]
    seeds: list[int] = field(default_factory=lambda: [0])
    fixed: list[str] = field(default_factory=list)  # overrides applied to every point

    def points(self) -> list[SweepPoint]:
        """Every combination of the grid values, for every seed, in grid order."""
        keys = list(self.grid)
        combos = itertools.product(*(self.grid[k] for k in keys)) if keys else [()]
        return [SweepPoint(tuple(f"{k}={v}" for k, v in zip(keys, values, strict=True)), seed)
                for values in combos for seed in self.seeds]

    def identity(self) -> str:
        text = json.dumps([self.preset, self.scale, self.grid, self.seeds, self.fixed], sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:8]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SweepPoint:
    overrides: tuple[str, ...]
    seed: int

    @property
    def name(self) -> str:
        """Folder name: the overrides with unsafe characters replaced, then the seed."""
        text = ",".join(self.overrides) or "base"
        return re.sub(r"[^A-Za-z0-9._=,+-]", "_", text) + f"-s{self.seed}"

    def value(self, key: str) -> str | None:
        return next((o.split("=", 1)[1] for o in self.overrides if o.split("=", 1)[0] == key), None)


def parse_grid(arguments: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Split `key=v1,v2,...` arguments into grid axes and `key=v` into fixed overrides.

    A value in brackets (a YAML list such as optim.betas=[0.9,0.98]) is one value, not a list."""
    grid: dict[str, list[str]] = {}
    fixed: list[str] = []
    problems = []
    for argument in arguments:
        key, sep, value = argument.partition("=")
        if not sep or not key or not value:
            problems.append(f"'{argument}': a sweep axis is written key=v1,v2,... (e.g. optim.lr=1e-3,3e-3)")
            continue
        values = [value] if value.startswith("[") else [v for v in value.split(",") if v]
        if key in grid or any(f.split("=", 1)[0] == key for f in fixed):
            problems.append(f"'{key}' is given twice; list all its values once: {key}=v1,v2")
        elif len(values) == 1:
            fixed.append(f"{key}={values[0]}")
        else:
            grid[key] = values
    if problems:
        raise ConfigError(problems)
    return grid, fixed
