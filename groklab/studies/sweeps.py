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

from groklab.common.run_files import FIGURES_DIR
from groklab.config import ConfigError
from groklab.history import HistoryError, atomic_write_text
from groklab.launch import SubmissionError
from groklab.launch.slurm import SlurmResources, require_scheduler, submit, time_limit_min
from groklab.launch.submit import Submission, estimate_all, live_jobs, prepare
from groklab.plots import plot_final_metrics, plot_measured_vs_predicted, plot_overlay, plot_phase_diagram, save_figure
from groklab.presets import Study, discover
from groklab.resolve import get_preset, resolve
from groklab.run.analysis import RunAnalysis, analyze
from groklab.run.execute import run_or_reuse
from groklab.run.folder import DEFAULT_RUNS_DIR, check_reusable, point_state

SWEEP_FILE = "sweep.json"


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


def _run_point(cfg: Any, run_dir: str, threads: int) -> tuple[str, str, float]:
    """Worker: train one point (fresh or resumed) and return (folder, outcome, seconds)."""
    import torch

    torch.set_num_threads(threads)
    start = time.monotonic()
    result = run_or_reuse(cfg, Path(run_dir), show_progress=False)
    return run_dir, result.analysis.outcome, time.monotonic() - start


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


def sweep(
    preset: str, arguments: list[str], scale: str = "quick", seeds: int = 1, workers: int = 1,
    out: Path | None = None, runs_dir: Path = DEFAULT_RUNS_DIR, report_line: Callable[[str], None] | None = None,
) -> SweepAnalysis:
    """Run the grid `arguments` (key=v1,v2,... axes, key=v fixed overrides) around `preset`'s `scale`.

    Every point's config is validated before anything runs. The same call again (same grid, same --out)
    skips finished points and resumes unfinished ones."""
    spec = sweep_spec(preset, arguments, scale, seeds)
    configs = resolve_points(spec, resolve)
    sweep_dir = out or default_sweep_dir(spec, runs_dir)
    claim_folder(spec, sweep_dir)
    execute(configs, sweep_dir, workers, report_line or (lambda line: print(line, flush=True)))
    return analyze_sweep(sweep_dir)


def sweep_spec(preset: str, arguments: list[str], scale: str = "quick", seeds: int = 1) -> SweepSpec:
    """The sweep that `arguments` (key=v1,v2,... axes and key=v fixed overrides) describe around a preset."""
    grid, fixed = parse_grid(arguments)
    return SweepSpec(get_preset(preset).id, scale, grid, list(range(seeds)), fixed)


def study_arguments(study: Study) -> list[str]:
    """A preset study's grid (and fixed overrides) as sweep arguments."""
    return [f"{key}={','.join(str(v) for v in values)}" for key, values in study.grid.items()] + study.fixed


@dataclass(frozen=True)
class SweepAnalysis:
    """A sweep folder's grid and what each point's run concluded (None for points not run yet)."""

    sweep_dir: Path
    spec: SweepSpec
    points: list[tuple[SweepPoint, RunAnalysis | None]]
    figures: tuple[Path, ...]
    agreement: dict[str, Any] | None  # measured vs predicted generalization steps, where predicted

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for point, result in self.points:
            row: dict[str, Any] = {"point": point.name, "overrides": list(point.overrides), "seed": point.seed}
            if result is not None:
                a = result.analysis
                row.update(state=result.state, outcome=a.outcome, memorization_step=a.memorization_step,
                           generalization_step=a.generalization_step, signature=result.signature,
                           slingshots=None if a.slingshots is None else len(a.slingshots))
            rows.append(row)
        return {"sweep_dir": str(self.sweep_dir), "spec": self.spec.to_dict(), "points": rows,
                "agreement": self.agreement, "figures": [str(f) for f in self.figures]}


def agreement(points: list[tuple[SweepPoint, RunAnalysis | None]]) -> dict[str, Any] | None:
    """Measured vs predicted generalization step over the points that have a prediction: the median and
    largest relative error |measured - predicted| / predicted."""
    pairs = [(r.analysis.generalization_step, r.signature["predicted_generalization_step"], r.signature)
             for _, r in points if r is not None and r.signature.get("predicted_generalization_step")]
    measured = [(m, p) for m, p, _ in pairs if m is not None]
    if not measured:
        return None
    errors = sorted(abs(m - p) / p for m, p in measured)
    return {"points": len(measured), "without_measurement": len(pairs) - len(measured),
            "median_relative_error": errors[len(errors) // 2], "max_relative_error": errors[-1]}


def analyze_sweep(sweep_dir: Path, figures_dir: Path | None = None) -> SweepAnalysis:
    """Analyze every point of a sweep and draw its phase diagram (and, where the theory predicts the
    generalization step, measured vs predicted) into `figures_dir` (default sweep_dir/figures)."""
    spec = load_spec(sweep_dir)
    points = []
    for point in spec.points():
        run_dir = sweep_dir / point.name
        try:
            points.append((point, analyze(run_dir, write=False)))
        except (ConfigError, HistoryError):
            points.append((point, None))
    figures_dir = figures_dir or sweep_dir / FIGURES_DIR
    stem = sweep_dir.name
    labels = get_preset(spec.preset).outcome_labels if spec.preset in discover() else {}
    outcome_at: dict[tuple[str, ...], list[str]] = {}
    for point, result in points:
        key = tuple(point.value(k) or "" for k in spec.grid)
        outcome_at.setdefault(key, []).append(result.analysis.outcome if result else "incomplete")
    drawn = []
    if spec.grid:
        drawn.append(figures_dir / f"{stem}-phases.png")
        save_figure(plot_phase_diagram(spec.grid, outcome_at, labels, f"{spec.preset} ({spec.scale})"), drawn[-1])
    numeric = _numeric_axis(spec)
    finished = [(float(p.value(numeric)), r.analysis.final) for p, r in points if r is not None] if numeric else []
    if len(finished) >= 2:
        drawn.append(figures_dir / f"{stem}-final.png")
        save_figure(plot_final_metrics(finished, numeric, f"{spec.preset} ({spec.scale})"), drawn[-1])
    with_norm = [(",".join(p.overrides) + f" s{p.seed}", r.history) for p, r in points
                 if r is not None and r.history.has("last_layer_norm")]
    if with_norm:
        drawn.append(figures_dir / f"{stem}-norms.png")
        save_figure(plot_overlay(with_norm, ["last_layer_norm", "train_loss"], {"train_loss"},
                                 f"{spec.preset} ({spec.scale})"), drawn[-1])
    agreed = agreement(points)
    if agreed is not None:
        rows = [(r.signature["ratio"], r.analysis.generalization_step, r.signature["predicted_generalization_step"])
                for _, r in points if r is not None and "ratio" in r.signature]
        drawn.append(figures_dir / f"{stem}-predicted.png")
        text = f"median relative error {agreed['median_relative_error']:.0%} over {agreed['points']} points"
        save_figure(plot_measured_vs_predicted(rows, "lambda = d_in / n_train", spec.preset, text), drawn[-1])
    result = SweepAnalysis(sweep_dir, spec, points, tuple(drawn), agreed)
    if figures_dir == sweep_dir / FIGURES_DIR:
        atomic_write_text(sweep_dir / "sweep_summary.json", json.dumps(result.to_dict(), indent=1))
    return result


def _numeric_axis(spec: SweepSpec) -> str | None:
    """The key of a one-axis grid whose values are all positive numbers (drawn on a log axis), else None."""
    if len(spec.grid) != 1:
        return None
    key, values = next(iter(spec.grid.items()))
    try:
        return key if all(float(v) > 0 for v in values) else None
    except ValueError:
        return None


def submit_sweep(
    preset: str, arguments: list[str], resources: SlurmResources, scale: str = "quick", seeds: int = 1,
    out: Path | None = None, report_line: Callable[[str], None] = print,
) -> Submission:
    """Submit every unfinished point of a sweep as one job array. Finished points and points whose job is still
    queued or running are left alone, so the same command again only resubmits what stopped."""
    require_scheduler()
    spec = sweep_spec(preset, arguments, scale, seeds)
    configs = resolve_points(spec, resolve)
    sweep_dir = out or default_sweep_dir(spec, DEFAULT_RUNS_DIR)
    claim_folder(spec, sweep_dir)
    for point, cfg in configs:
        check_reusable(sweep_dir / point.name, cfg)
    live = live_jobs([sweep_dir / p.name for p, _ in configs])
    todo = [(p, cfg) for p, cfg in configs
            if point_state(sweep_dir / p.name) != "finished" and (sweep_dir / p.name) not in live]
    report_line(f"sweep {sweep_dir}: {len(configs)} points, {len(live)} queued or running, "
                f"{len(configs) - len(todo) - len(live)} finished, {len(todo)} to submit")
    if not todo:
        return Submission([], [], 0, None)
    estimates = estimate_all([cfg for _, cfg in todo], resources.cpus_per_task)
    longest = max(estimates, key=lambda e: e.total_s)
    limit = time_limit_min(longest.total_s, resources, f"the longest point of {spec.preset} ({scale})")
    report_line(f"calibration: longest point {longest.describe()}; time limit {limit} min")
    run_dirs = []
    for point, cfg in todo:
        run_dir = sweep_dir / point.name
        if point_state(run_dir) == "new":
            run_dir.mkdir(parents=True, exist_ok=True)
            prepare(cfg, run_dir)
        run_dirs.append(run_dir)
    try:
        job_ids = submit(run_dirs, resources, limit, sweep_dir / "slurm", f"groklab-{spec.preset}-sweep")
    except SubmissionError as err:
        raise SubmissionError(f"{err} (the prepared points stay in {sweep_dir}: the same command submits them "
                              "again)") from err
    return Submission(run_dirs, job_ids, limit, longest)
