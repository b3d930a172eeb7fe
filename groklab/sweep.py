"""Local sweeps: a grid of runs around a preset scale, each point a normal run folder.

A sweep folder holds sweep.json (what the grid is) and one run folder per point. Running the same sweep
again skips finished points and resumes killed ones, so nothing is computed twice or overwritten.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from groklab.config import ConfigError
from groklab.config.io import config_to_dict, load_config
from groklab.history import atomic_write_text
from groklab.runs import run_state

SWEEP_FILE = "sweep.json"
FINISHED = ("completed", "diverged")


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


def default_sweep_dir(spec: SweepSpec, runs_dir: Path) -> Path:
    return runs_dir / "sweeps" / f"{spec.preset}-{spec.scale}-{spec.identity()}"


def resolve_points(spec: SweepSpec, resolve: Callable[..., Any]) -> list[tuple[SweepPoint, Any]]:
    """Every point with its validated config; all problems are collected into one ConfigError."""
    configs, problems = [], []
    for point in spec.points():
        try:
            configs.append((point, resolve(spec.preset, spec.scale, [*spec.fixed, *point.overrides], seed=point.seed)))
        except ConfigError as err:
            problems += [f"point {point.name}: {p}" for p in err.problems]
    if problems:
        raise ConfigError(sorted(set(problems)))
    return configs


def claim_folder(spec: SweepSpec, sweep_dir: Path) -> None:
    """Write sweep.json into a new (or empty) folder, or check that the folder holds this very sweep."""
    record = sweep_dir / SWEEP_FILE
    if record.is_file():
        saved = json.loads(record.read_text())["spec"]
        if saved != spec.to_dict():
            raise FileExistsError(
                f"{sweep_dir} holds a different sweep ({saved['preset']} {saved['scale']}, grid {saved['grid']}, "
                f"seeds {saved['seeds']}); groklab never mixes sweeps: choose another --out"
            )
        return
    if sweep_dir.exists() and any(sweep_dir.iterdir()):
        raise FileExistsError(f"{sweep_dir} exists, is not empty and is not a sweep folder: choose another --out")
    sweep_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(record, json.dumps({"spec": spec.to_dict(), "created_at": time.time(),
                                          "points": [p.name for p in spec.points()]}, indent=1))


def point_state(run_dir: Path) -> str:
    """'new' (nothing there), 'finished', or 'unfinished' (killed or stopped: to resume)."""
    if not (run_dir / "config.yaml").is_file():
        return "new"
    return "finished" if run_state(run_dir).state in FINISHED else "unfinished"


def check_reusable(run_dir: Path, cfg: Any) -> None:
    """Refuse to reuse or resume a run folder whose saved config differs from `cfg` (another preset version,
    a changed scale), naming what differs: its results would otherwise be mixed with this config's. The
    device does not count: it says where a run trains, not what it computes."""
    if not (run_dir / "config.yaml").is_file():
        return
    saved = flat_config(config_to_dict(load_config(run_dir / "config.yaml")))
    wanted = flat_config(config_to_dict(cfg))
    changed = [f"{key}: {saved.get(key)} -> {wanted.get(key)}" for key in sorted(saved.keys() | wanted.keys())
               if key != "device" and saved.get(key) != wanted.get(key)]
    if changed:
        raise FileExistsError(
            f"{run_dir} was trained with a different config ({'; '.join(changed[:5])}"
            f"{'; ...' if len(changed) > 5 else ''}); groklab does not mix its results with this one: choose "
            "another --out, or move that folder away to retrain it"
        )


def flat_config(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'model.d_model': 128, ...} from a nested config dict."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out |= flat_config(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def _run_point(cfg: Any, run_dir: str, threads: int) -> tuple[str, str, float]:
    """Worker: train one point (fresh or resumed) and return (folder, outcome, seconds)."""
    import torch

    from groklab import api

    torch.set_num_threads(threads)
    start = time.monotonic()
    path = Path(run_dir)
    if point_state(path) == "unfinished":
        handle = api.resume(path, show_progress=False)
    else:  # api.run accepts the empty folder a kill may have left before the config was written
        handle = api.run(cfg, path, show_progress=False)
    return run_dir, handle.result.analysis.outcome, time.monotonic() - start


def execute(
    configs: list[tuple[SweepPoint, Any]], sweep_dir: Path, workers: int, report: Callable[[str], None]
) -> dict[str, str]:
    """Run every point that is not finished, `workers` at a time; returns {point name: outcome, 'skipped' or
    'failed: why'}. A failing point is reported and the others go on; the next call retries it."""
    todo, results = [], {}
    for point, cfg in configs:  # every point is checked before any trains
        check_reusable(sweep_dir / point.name, cfg)
        state = point_state(sweep_dir / point.name)
        if state == "finished":
            results[point.name] = "skipped"
        else:
            todo.append((point, cfg))
    report(f"sweep {sweep_dir}: {len(configs)} points, {len(configs) - len(todo)} already finished, "
           f"{len(todo)} to run with {workers} worker(s)")
    threads = max(1, (os.cpu_count() or 1) // workers)
    done = len(configs) - len(todo)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_run_point, cfg, str(sweep_dir / point.name), threads): point for point, cfg in todo}
        for future in as_completed(futures):
            point = futures[future]
            done += 1
            try:
                _, outcome, seconds = future.result()
            except Exception as err:  # noqa: BLE001  (one broken point must not stop the grid)
                results[point.name] = f"failed: {type(err).__name__}: {err}"
                report(f"[{done}/{len(configs)}] {point.name}: {results[point.name]}")
                continue
            results[point.name] = outcome
            report(f"[{done}/{len(configs)}] {point.name}: {outcome} ({seconds:.0f} s)")
    return results


def load_spec(sweep_dir: Path) -> SweepSpec:
    record = sweep_dir / SWEEP_FILE
    if not record.is_file():
        raise FileNotFoundError(f"{sweep_dir} is not a sweep folder (no {SWEEP_FILE})")
    return SweepSpec(**json.loads(record.read_text())["spec"])


def find_sweeps(root: Path) -> list[Path]:
    """Sweep folders at or below `root`."""
    return sorted(p.parent for p in root.rglob(SWEEP_FILE)) if root.is_dir() else []
