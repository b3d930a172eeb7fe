"""Sweeps: a grid of runs around a preset scale, each point a normal run folder.

A sweep folder holds sweep.json (what the grid is) and one run folder per point. Running the same sweep
again skips finished points and resumes killed ones, so nothing is computed twice or overwritten; the points
train here or on SLURM (`executor`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from groklab.common.files import json_text, write_atomic
from groklab.common.run_folder import FIGURES_DIR
from groklab.config import ConfigError, RunConfig
from groklab.history import HistoryError
from groklab.launch.executor import Executor, Job, Slurm, executor_for
from groklab.launch.plan import Plan, Stage, execute
from groklab.launch.slurm import SlurmResources
from groklab.launch.submit import Submission
from groklab.plots import plot_final_metrics, plot_measured_vs_predicted, plot_overlay, plot_phase_diagram, save_figure
from groklab.presets import Study, discover
from groklab.report.describe import shown
from groklab.report.render import SweepEntry
from groklab.resolve import get_preset, resolve
from groklab.run.analysis import RunAnalysis, analyze
from groklab.run.folder import DEFAULT_RUNS_DIR
from groklab.studies.base import StudyKind, StudySection, claim_study, find_studies, read_study_spec, register
from groklab.studies.grid import SweepPoint, SweepSpec, parse_grid


def _section(folder: Path, runs_dir: Path, figures_dir: Path) -> StudySection:
    sweep = analyze_sweep(folder, figures_dir)
    return StudySection(sweep_entry(sweep, runs_dir), sweep.spec.preset,
                        frozenset(folder / point.name for point, _ in sweep.points))


SWEEP = register(StudyKind("sweep", "sweep.json", _section))


def default_sweep_dir(spec: SweepSpec, runs_dir: Path) -> Path:
    return runs_dir / "sweeps" / f"{spec.preset}-{spec.scale}-{spec.identity()}"


def resolve_points(spec: SweepSpec) -> list[tuple[RunConfig, Path]]:
    """Every point's validated config with its folder name; all problems are collected into one ConfigError."""
    configs, problems = [], []
    for point in spec.points():
        try:
            configs.append((resolve(spec.preset, spec.scale, [*spec.fixed, *point.overrides], seed=point.seed),
                            Path(point.name)))
        except ConfigError as err:
            problems += [f"point {point.name}: {p}" for p in err.problems]
    if problems:
        raise ConfigError(sorted(set(problems)))
    return configs


def sweep_jobs(spec: SweepSpec, sweep_dir: Path, batched: bool = False,
               points: list[tuple[RunConfig, Path]] | None = None) -> list[Job]:
    """Claim the folder; its points as jobs (stackable with `batched`). `points`: the spec's points as
    resolve_points gives them, when already resolved (validated before any work)."""
    jobs = [Job(cfg, sweep_dir / name, batched) for cfg, name in points or resolve_points(spec)]
    claim_study(sweep_dir, SWEEP, spec.to_dict())
    return jobs


def load_spec(sweep_dir: Path) -> SweepSpec:
    return SweepSpec(**read_study_spec(sweep_dir, SWEEP))


def find_sweeps(root: Path) -> list[Path]:
    """Sweep folders at or below `root`."""
    return find_studies(root, SWEEP)


def sweep(
    preset: str, arguments: list[str], scale: str = "quick", seeds: int = 1, workers: int = 1,
    out: Path | None = None, runs_dir: Path = DEFAULT_RUNS_DIR, report_line: Callable[[str], None] | None = None,
    executor: Literal["local", "slurm"] | Executor = "local", resources: SlurmResources | None = None,
    batched: bool = False,
) -> SweepAnalysis | Submission:
    """Run the grid `arguments` (key=v1,v2,... axes, key=v fixed overrides) around `preset`'s `scale`: here,
    `workers` points at a time (then analyze it: a SweepAnalysis), or with executor='slurm' as a job array
    (a Submission; analyze_sweep reads the folder once the jobs end). With `batched` (here only), the points that
    differ only in per-member values (seed, learning rates, weight decays, initial scale, training subset) train
    as one batched computation, each still its own run folder.

    Every point's config is validated before anything runs. The same call again (same grid, same --out)
    skips finished points and resumes unfinished ones (on SLURM: resubmits only what stopped)."""
    spec = sweep_spec(preset, arguments, scale, seeds)
    sweep_dir = out or default_sweep_dir(spec, runs_dir)
    chosen = executor_for(executor, resources, workers, batched)
    plan = Plan(f"sweep {sweep_dir}", [Stage("points", sweep_jobs(spec, sweep_dir, batched))], noun="points")
    launched = execute(plan, chosen, report_line or (lambda line: print(line, flush=True)))
    return launched.submissions[0] if isinstance(chosen, Slurm) else analyze_sweep(sweep_dir)


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
        write_atomic(sweep_dir / "sweep_summary.json", json_text(result.to_dict()))
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


def sweep_entry(sweep: SweepAnalysis, runs_dir: Path) -> SweepEntry:
    """A sweep's table, findings and figures for the report."""
    labels = get_preset(sweep.spec.preset).outcome_labels if sweep.spec.preset in discover() else {}
    question = next((study.question for study in (get_preset(sweep.spec.preset).studies.values()
                                                  if sweep.spec.preset in discover() else ())
                     if study.grid.keys() == sweep.spec.grid.keys() and study.scale == sweep.spec.scale),
                    f"grid over {', '.join(sweep.spec.grid)}")
    header = [*sweep.spec.grid, "seed", "outcome", "memorization", "generalization", "final train / test acc",
              "details"]
    rows, phases = [], {}
    for point, result in sweep.points:
        values = [point.value(k) or "" for k in sweep.spec.grid] + [str(point.seed)]
        if result is None:
            rows.append(values + ["not run", "-", "-", "-", ""])
            continue
        a = result.analysis
        phase = labels.get(a.outcome, a.outcome)
        phases[phase] = phases.get(phase, 0) + 1
        details = [f"{k} {shown(v)}" for k, v in result.signature.items()]
        if a.slingshots is not None:
            details.append(f"slingshots {len(a.slingshots)}")
        accuracies = f"{a.final['train_acc']:.1%} / {a.final['test_acc']:.1%}"
        rows.append(values + [phase, str(a.memorization_step), str(a.generalization_step), accuracies,
                              ", ".join(details)])
    where = sweep.sweep_dir.relative_to(runs_dir) if sweep.sweep_dir != runs_dir else sweep.sweep_dir
    findings = [f"{len(sweep.points)} points in {where}; "
                "outcomes: " + ", ".join(f"{k} {v}" for k, v in phases.items())]
    counted = [(point, len(r.analysis.slingshots)) for point, r in sweep.points
                if r is not None and r.analysis.slingshots is not None]
    if counted:
        findings.append("Slingshot cycles: " + ", ".join(f"{','.join(p.overrides) or 'base'} (seed {p.seed}): {n}"
                                                        for p, n in counted))
    if sweep.agreement:
        g = sweep.agreement
        findings.append(f"measured vs predicted generalization step: median relative error "
                        f"{g['median_relative_error']:.1%}, largest {g['max_relative_error']:.1%} over {g['points']} "
                        f"points" + (f" ({g['without_measurement']} did not generalize)" if g["without_measurement"]
                                     else ""))
    return SweepEntry(sweep.sweep_dir.name, question, header, rows, findings, sweep.figures)
