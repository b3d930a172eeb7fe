"""`groklab suite`: every preset at one scale, side by side, then the report; with `full`, also every preset
study and ticket comparison (quick scale)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from groklab.config import RunConfig
from groklab.launch.executor import Local, in_processes, train_outcome
from groklab.report.terminal import shown
from groklab.resolve import derive, get_preset, presets, resolve
from groklab.run.analysis import RunAnalysis, analyze
from groklab.run.folder import DEFAULT_RUNS_DIR
from groklab.studies.report import report
from groklab.studies.sweeps import analyze_sweep, resolve_points, start_sweep, study_arguments, sweep_spec
from groklab.studies.tickets import tickets


def expected_outcome(preset_id: str, scale: str) -> str:
    """The outcome a preset's `scale` should reach (for a scale other than quick and canonical: the paper's)."""
    chosen = get_preset(preset_id)
    return chosen.expected_outcome(scale) or chosen.reported.outcome


def estimated_minutes(workers: int) -> float:
    """How long the quick scales take `workers` at a time, from each preset's measured time (Preset.quick_seconds),
    with a fifth more for analysis and figures and half a minute for the report."""
    seconds = [p.quick_seconds or 60 for p in presets()]
    return (max(max(seconds), sum(seconds) / workers) * 1.2 + 30) / 60


def _training_seconds(cfg: RunConfig) -> float:
    """A run's expected training time: its preset's measured quick-scale time, scaled by its number of steps."""
    quick_steps = resolve(cfg.preset, "quick").train.steps
    return (get_preset(cfg.preset).quick_seconds or 60) * cfg.train.steps / quick_steps


def full_estimated_minutes(study_points: list[list[RunConfig]], ticket_configs: list[list[RunConfig]],
                           workers: int) -> float:
    """How long `--full`'s studies (each `workers` points at a time) and ticket comparisons (one run after
    another) take, from each preset's measured quick-scale time scaled by each run's steps."""
    studies = sum(max(max(map(_training_seconds, points)), sum(map(_training_seconds, points)) / workers)
                  for points in study_points if points)
    tickets = sum(map(_training_seconds, (cfg for runs in ticket_configs for cfg in runs)))
    return (studies + tickets) * 1.2 / 60


def run_name(preset_id: str, seed: int) -> str:
    """A suite run's folder name: the preset id for seed 0, <preset id>-seed<k> for further seeds."""
    return preset_id if seed == 0 else f"{preset_id}-seed{seed}"


def preset_of_run(name: str) -> str:
    """The preset id of a suite run's folder name."""
    return name.split("-seed")[0]


def suite(
    scale: str = "quick", out: Path | None = None, workers: int = 2, full: bool = False,
    report_line: Callable[[str], None] = print, seeds: int = 1,
) -> dict[str, RunAnalysis | None]:
    """Run `scale` of every preset, seeds 0..`seeds`-1, into `out`/<run_name>/, `workers` at a time (finished runs
    in `out` are reused), printing one line as each ends: its outcome, events and the outcome its scale is
    expected to reach. With `full` (quick scale only), then every preset study into `out`/sweeps/ and every ticket
    comparison into `out`/tickets/. Writes `out`/report/ and returns each run's analysis (None when it failed)."""
    out = out or DEFAULT_RUNS_DIR / f"suite-{scale}-{time.strftime('%Y%m%d-%H%M%S')}"
    configs = {run_name(preset.id, seed): derive(resolve(preset.id, scale), {"seed": seed})
               for seed in range(seeds) for preset in presets()}  # validate all before any work
    chosen = {f"{p.id}-{name}": (p.id, study) for p in presets() for name, study in p.studies.items() if full}
    studies = {name: sweep_spec(preset_id, study_arguments(study), study.scale, study.seeds)
               for name, (preset_id, study) in chosen.items()}
    points = {name: resolve_points(spec) for name, spec in studies.items()}
    ticket_studies = [(p.id, t) for p in presets() for t in p.tickets if full]
    ticket_runs = []
    for preset_id, t in ticket_studies:
        dense = resolve(preset_id, t.scale)
        retrained = derive(dense, {"train.steps": t.retrain_steps}) if t.retrain_steps else dense
        ticket_runs.append([dense, retrained, retrained, retrained])  # dense, ticket and two controls
    report_line(f"suite: {len(presets())} presets at the {scale} scale, {seeds} seed(s) each, {workers} at a time, "
                f"into {out}" + (f"; about {seeds * estimated_minutes(workers):.0f} min" if scale == "quick" else ""))
    results: dict[str, RunAnalysis | None] = {}

    def finished(name: str, outcome: Any, seconds: float) -> None:
        line = f"[{len(results) + 1}/{len(configs)}] {name}  "
        if isinstance(outcome, Exception):
            results[name] = None
            report_line(line + f"failed: {type(outcome).__name__}: {outcome}")
            return
        results[name] = result = analyze(out / name, write=False)
        a = result.analysis
        report_line(line + f"{a.outcome} (memorized at {shown(a.memorization_step)}, generalized at "
                    f"{shown(a.generalization_step)}; expected: {expected_outcome(preset_of_run(name), scale)})  "
                    f"{seconds:.0f} s")

    in_processes(train_outcome, {name: (cfg, out / name) for name, cfg in configs.items()}, workers, finished)
    if full:
        minutes = full_estimated_minutes([[cfg for cfg, _ in p] for p in points.values()], ticket_runs, workers)
        report_line(f"suite --full: {len(studies)} preset studies ({sum(map(len, points.values()))} runs, {workers} "
                    f"at a time) and {len(ticket_studies)} ticket comparisons (4 runs each, one after another); "
                    f"about {minutes:.0f} min")
    for name, spec in studies.items():
        start_sweep(spec, out / "sweeps" / name, Local(workers, chosen[name][1].batched), report_line, points[name])
        analyze_sweep(out / "sweeps" / name)
    for preset_id, t in ticket_studies:
        tickets(preset_id, t.scale, t.density, out / "tickets" / f"{preset_id}-{t.scale}-d{t.density:g}",
                show_progress=False, retrain_steps=t.retrain_steps)
    report(out, out / "report")
    return {name: results[name] for name in configs}
