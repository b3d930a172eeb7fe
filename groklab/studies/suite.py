"""`groklab suite`: every preset at one scale, side by side, then the report; with `full`, also every preset
study and ticket comparison (quick scale)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from groklab.config import RunConfig
from groklab.launch.executor import Executor, Job, Local
from groklab.launch.plan import Plan, PlanResult, Stage, execute
from groklab.presets import Preset, presets
from groklab.resolve import derive, get_preset, resolve
from groklab.run.analysis import RunAnalysis, analyze
from groklab.run.folder import DEFAULT_RUNS_DIR
from groklab.studies.report import report
from groklab.studies.sweeps import analyze_sweep, study_arguments, sweep_jobs, sweep_spec
from groklab.studies.tickets import ticket_stages


def estimated_minutes(workers: int, members: list[Preset] | None = None) -> float:
    """How long the quick scales of `members` (default: every preset) take `workers` at a time, from each
    preset's measured time (Preset.quick_seconds), with a fifth more for analysis and figures and half a minute
    for the report."""
    seconds = [p.quick_seconds or 60 for p in members or presets()]
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


@dataclass(frozen=True)
class SuiteResult:
    """A suite's folder, each run's analysis (None: it failed; empty while the plan waits on SLURM) and what
    launching its plan did."""

    out: Path
    runs: dict[str, RunAnalysis | None]
    plan: PlanResult


def suite(
    scale: str = "quick", out: Path | None = None, workers: int = 2, full: bool = False,
    report_line: Callable[[str], None] = print, seeds: int = 1, chosen: list[str] | None = None,
    overrides: list[str] | None = None, executor: Executor | None = None, wait: bool = False,
) -> SuiteResult:
    """Run `scale` of every preset (or of the `chosen` ones, with `overrides` applied to each), seeds
    0..`seeds`-1, into `out`/<run_name>/, `workers` at a time here (finished runs in `out` are reused), or as
    SLURM job arrays with `executor`. With `full` (quick scale only), also every preset study into `out`/sweeps/
    and every ticket comparison into `out`/tickets/, as one plan: the runs, study points and dense ticket runs
    first, then the tickets built from them. Writes `out`/report/ once every run is finished."""
    out = out or DEFAULT_RUNS_DIR / f"suite-{scale}-{time.strftime('%Y%m%d-%H%M%S')}"
    members = [get_preset(p) for p in chosen] if chosen else presets()
    fixed = list(overrides or [])
    configs = {run_name(preset.id, seed): derive(resolve(preset.id, scale, fixed), {"seed": seed})
               for seed in range(seeds) for preset in members}  # validate all before any work
    studies = {f"{p.id}-{name}": (study, sweep_spec(p.id, [*study_arguments(study), *fixed], study.scale,
                                                     study.seeds))
               for p in members for name, study in p.studies.items() if full}
    first = [Job(cfg, out / name) for name, cfg in configs.items()]
    for name, (study, spec) in studies.items():
        first += sweep_jobs(spec, out / "sweeps" / name, study.batched)
    ticket_plans = [ticket_stages(p.id, t.scale, t.density, out / "tickets" / f"{p.id}-{t.scale}-d{t.density:g}",
                                  fixed, t.retrain_steps) for p in members for t in p.tickets if full]
    first += [job for dense, _ in ticket_plans for job in dense.jobs]
    stages = [Stage("runs" + (", study points and dense ticket runs" if full else ""), first)]
    if ticket_plans:
        stages.append(Stage("tickets", build=lambda: [job for _, then in ticket_plans for job in then.resolved()]))
    executor = executor or Local(workers)
    where = f"{workers} at a time" if isinstance(executor, Local) else "on SLURM"
    estimate = ""
    if scale == "quick" and isinstance(executor, Local):
        points = [[job.cfg for job in first if job.run_dir.parent == out / "sweeps" / name] for name in studies]
        ticket_runs = [[job.cfg for job in dense.jobs] * 2 for dense, _ in ticket_plans]  # the controls as long
        minutes = seeds * estimated_minutes(workers, members) + full_estimated_minutes(points, ticket_runs, workers)
        estimate = f"; about {minutes:.0f} min"
    report_line(f"suite: {len(members)} presets at the {scale} scale, {seeds} seed(s) each, {len(first)} runs in the "
                f"first stage, {where}, into {out}{estimate}")
    launched = execute(Plan(f"suite {out}", stages), executor, report_line, wait)
    if launched.stopped:
        return SuiteResult(out, {}, launched)
    runs = {name: None if out / name in launched.failed else analyze(out / name, write=False) for name in configs}
    for name in studies:
        analyze_sweep(out / "sweeps" / name)
    report(out, out / "report")
    return SuiteResult(out, runs, launched)
