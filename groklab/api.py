"""The Python API that the CLI wraps: resolve configs, run, resume and analyze runs."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from groklab.analysis import (
    Analysis,
    AnalysisSpec,
    Diagnosis,
    RunFacts,
    Verdict,
    aggregate,
    analyze_history,
    diagnose,
    verdict,
)
from groklab.config import (
    ConfigError,
    RunConfig,
    apply_overrides,
    config_to_dict,
    dump_config,
    load_config,
    load_config_dict,
    validate_config,
)
from groklab.fidelity import fidelity_line
from groklab.history import History, HistoryError, atomic_write_text, load_history, write_training_history
from groklab.importers import SOURCE_FILE, import_run  # noqa: F401  (import_run re-exported for the CLI)
from groklab.launch.slurm import JobState, job_of, job_states
from groklab.plots import (
    plot_comparison,
    plot_curves,
    plot_detail,
    plot_embedding_planes,
    plot_final_metrics,
    plot_measured_vs_predicted,
    plot_neuron_spectra,
    plot_overlay,
    plot_phase_diagram,
    plot_probes,
    plot_seed_bands,
    probe_panels,
    save_figure,
)
from groklab.presets import PRESETS, Preset, Study, discover
from groklab.report import PaperSection, ReportData, RunEntry, SweepEntry, format_fact, render_html, render_markdown
from groklab.runs import RunState, find_runs, run_state
from groklab.signatures import neuron_spectra_pair, signature_facts
from groklab.sweep import (
    SweepPoint,
    SweepSpec,
    check_reusable,
    claim_folder,
    default_sweep_dir,
    find_sweeps,
    load_spec,
    parse_grid,
    point_state,
    resolve_points,
)
from groklab.sweep import execute as execute_sweep
from groklab.train.status import write_status

DEFAULT_RUNS_DIR = Path("runs")


def presets() -> list[Preset]:
    """All registered presets, in id order."""
    registry = discover()
    return [registry.get(name) for name in registry.names()]


def get_preset(name: str) -> Preset:
    """A preset by id or alias (with a did-you-mean error)."""
    return discover().get(name)


def resolve(
    preset: str | None = None,
    scale: str = "quick",
    overrides: list[str] | None = None,
    config_file: Path | None = None,
    seed: int | None = None,
    device: str | None = None,
) -> RunConfig:
    """Build and validate a RunConfig from a preset scale or a config file, plus overrides.

    Every problem is collected into one ConfigError before anything runs.
    """
    if config_file is not None:
        base = load_config_dict(config_file)
    elif preset is not None:
        try:
            chosen = get_preset(preset)
            base = chosen.config_dict(scale)
        except KeyError as err:
            raise ConfigError([str(err).strip("'\"")]) from None
    else:
        raise ConfigError(["name a preset (see `groklab papers`) or pass --config FILE"])
    extra = list(overrides or [])
    extra += [f"seed={seed}"] if seed is not None else []
    extra += [f"device={device}"] if device is not None else []
    return validate_config(apply_overrides(base, extra))


def new_run_dir(cfg: RunConfig, out: Path | None = None, runs_dir: Path = DEFAULT_RUNS_DIR) -> Path:
    """Create the run folder: `out` if given (refused if it exists and is not empty), else a fresh unique id."""
    if out is not None:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise FileExistsError(
                f"{out} already exists and is not empty; groklab never writes over a run. "
                f"Choose another --out, or resume it with `groklab run --resume {out}`"
            )
        out.mkdir(parents=True, exist_ok=True)
        return out
    stamp = time.strftime("%Y%m%d-%H%M%S")
    parent = runs_dir / (cfg.preset or "custom")
    for attempt in range(1000):
        suffix = f"-{attempt}" if attempt else ""
        path = parent / f"{stamp}-{cfg.scale or 'custom'}-s{cfg.seed}{suffix}"
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"could not find a free run folder under {parent}")


@dataclass(frozen=True)
class RunAnalysis:
    """Everything groklab concludes about one run folder."""

    run_dir: Path
    config: RunConfig | None  # None for a run imported from another tool's log
    source: dict[str, Any] | None  # source.json of an imported run
    state: str
    analysis: Analysis
    diagnosis: Diagnosis
    verdict: Verdict
    history: History = field(repr=False)  # kept so figures and reports do not read the file again
    signature: dict[str, Any] = field(default_factory=dict)  # paper-specific facts (groklab.signatures)

    @property
    def preset(self) -> str | None:
        return self.config.preset if self.config else None

    @property
    def scale(self) -> str | None:
        return self.config.scale if self.config else None

    def to_dict(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "preset": self.preset, "scale": self.scale,
                "seed": self.config.seed if self.config else None, "source": self.source, "state": self.state,
                **self.analysis.to_dict(), "diagnosis": self.diagnosis.to_dict(), "verdict": self.verdict.to_dict(),
                "signature": self.signature}


@dataclass(frozen=True)
class RunHandle:
    run_dir: Path
    state: str
    result: RunAnalysis


def run(cfg: RunConfig, out: Path | None = None, show_progress: bool = True, tensorboard: bool = False) -> RunHandle:
    """Train `cfg` locally into a new run folder, then analyze it and draw its figures."""
    run_dir = new_run_dir(cfg, out)
    dump_config(cfg, run_dir / "config.yaml")
    write_status(run_dir, "queued", total_steps=cfg.train.steps)
    return _train_and_finish(cfg, run_dir, False, show_progress, tensorboard)


def run_seeds(cfg: RunConfig, seeds: int, out: Path | None = None, show_progress: bool = True) -> list[RunHandle]:
    """Train seeds cfg.seed .. cfg.seed + seeds - 1, each into its own run folder (`out`/s<seed>, or the
    usual fresh folder), as one batched computation when the config allows it, else one after another."""
    from groklab.train.batched import train_seeds, unbatchable_reason

    configs = [cfg.model_copy(update={"seed": cfg.seed + i}) for i in range(seeds)]
    reason = unbatchable_reason(cfg)
    if reason is not None:
        logging.getLogger(__name__).info("training the seeds one after another: %s", reason)
        return [run(c, out / f"s{c.seed}" if out else None, show_progress) for c in configs]
    run_dirs = [new_run_dir(c, out / f"s{c.seed}" if out else None) for c in configs]
    for c, run_dir in zip(configs, run_dirs, strict=True):
        dump_config(c, run_dir / "config.yaml")
        write_status(run_dir, "queued", total_steps=c.train.steps)
    try:
        results = train_seeds(configs, run_dirs, show_progress)
    except Exception as err:
        for run_dir in run_dirs:
            write_status(run_dir, "failed", error=f"{type(err).__name__}: {err}")
        raise
    return [RunHandle(run_dir, result.state, analyze(run_dir)) for run_dir, result in zip(run_dirs, results,
                                                                                          strict=True)]


def resume(run_dir: Path, show_progress: bool = True, tensorboard: bool = False) -> RunHandle:
    """Continue a killed or stopped run from its newest checkpoint, with the config it was started with."""
    if not (run_dir / "config.yaml").is_file():
        raise ConfigError([f"{run_dir} is not a groklab run folder (no config.yaml)"])
    cfg = load_config(run_dir / "config.yaml")
    if run_state(run_dir).state == "completed":  # e.g. stopped at train.stop_at_test_acc: nothing to continue
        return RunHandle(run_dir, "completed", analyze(run_dir))
    return _train_and_finish(cfg, run_dir, True, show_progress, tensorboard)


def _train_and_finish(cfg: RunConfig, run_dir: Path, resume: bool, show_progress: bool, tensorboard: bool) -> RunHandle:
    from groklab.train.trainer import train  # torch is imported only when training

    try:
        result = train(cfg, run_dir, resume=resume, show_progress=show_progress, tensorboard=tensorboard)
    except Exception as err:  # not SystemExit or KeyboardInterrupt: a stopped run is resumable, not failed
        write_status(run_dir, "failed", error=f"{type(err).__name__}: {err}")
        raise
    return RunHandle(run_dir, result.state, analyze(run_dir))


def suite(
    scale: str = "quick", out: Path | None = None, show_progress: bool = True, workers: int = 2
) -> dict[str, RunHandle]:
    """Run `scale` of every preset into `out`/<preset id>/ and, for the quick scale, every preset study (sized
    for minutes) into `out`/sweeps/<preset id>-<study>/ (`workers` points at a time) and every ticket
    comparison into `out`/tickets/; analyze everything and write `out`/report/."""
    out = out or DEFAULT_RUNS_DIR / f"suite-{scale}-{time.strftime('%Y%m%d-%H%M%S')}"
    configs = {preset.id: resolve(preset.id, scale) for preset in presets()}  # validate all before any work
    studies = {f"{p.id}-{name}": sweep_spec(p.id, study_arguments(study), study.scale, study.seeds)
               for p in presets() for name, study in p.studies.items() if scale == "quick"}
    points = {name: resolve_points(spec, resolve) for name, spec in studies.items()}
    ticket_studies = [(p.id, t) for p in presets() for t in p.tickets if scale == "quick"]
    for preset_id, t in ticket_studies:
        resolve(preset_id, t.scale)
    handles = {name: run(cfg, out / name, show_progress=show_progress) for name, cfg in configs.items()}
    for name, spec in studies.items():
        claim_folder(spec, out / "sweeps" / name)
        execute_sweep(points[name], out / "sweeps" / name, workers, lambda line: print(line, flush=True))
        analyze_sweep(out / "sweeps" / name)
    for preset_id, t in ticket_studies:
        tickets(preset_id, t.scale, t.density, out / "tickets" / f"{preset_id}-{t.scale}-d{t.density:g}",
                show_progress=show_progress, retrain_steps=t.retrain_steps)
    report(out, out / "report")
    return handles


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
    execute_sweep(configs, sweep_dir, workers, report_line or (lambda line: print(line, flush=True)))
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
    figures_dir = figures_dir or sweep_dir / "figures"
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
    if figures_dir == sweep_dir / "figures":
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


TICKET_RUNS = ("dense", "ticket", "random_mask", "dense_matched_norm")
TICKETS_FILE = "tickets.json"  # marks a tickets folder: preset, scale and density
TICKETS_HEADER = ("run", "outcome", "generalization step", "speed-up vs dense")


@dataclass(frozen=True)
class TicketsResult:
    """The four runs of the grokking-ticket procedure and how fast each generalized."""

    out: Path
    preset: str
    scale: str
    density: float
    runs: dict[str, RunAnalysis]
    figure: Path

    def to_dict(self) -> dict[str, Any]:
        steps = {name: r.analysis.generalization_step for name, r in self.runs.items()}
        dense = steps["dense"]
        return {"out": str(self.out), "preset": self.preset, "scale": self.scale, "density": self.density,
                "generalization_steps": steps,
                "outcomes": {name: r.analysis.outcome for name, r in self.runs.items()},
                "speedup_vs_dense": {name: (dense / s if dense and s else None) for name, s in steps.items()},
                "figure": str(self.figure)}

    def table_rows(self) -> list[list[str]]:
        """One row per run under TICKETS_HEADER: outcome, generalization step, speed-up vs dense."""
        summary = self.to_dict()
        speedup = summary["speedup_vs_dense"]
        return [[name, summary["outcomes"][name], str(summary["generalization_steps"][name]),
                 "-" if speedup[name] is None else f"{speedup[name]:.2f}x"] for name in TICKET_RUNS]


def tickets(
    preset: str, scale: str = "quick", density: float = 0.4, out: Path | None = None,
    overrides: list[str] | None = None, show_progress: bool = True, retrain_steps: int | None = None,
) -> TicketsResult:
    """Minegishi et al.'s procedure: train the dense network; keep the `density` fraction of weight-matrix
    entries with the largest final magnitude, rewound to their initial values, and retrain with that mask
    (the ticket); controls: a random mask of the same density, and the dense network with its initial
    weights rescaled to the ticket's initial norm. `retrain_steps` shortens the ticket and control runs (the
    dense run always trains its full budget: its final weights define the ticket). Finished runs in `out` are
    reused, killed ones resumed."""
    base = resolve(preset, scale, list(overrides or []))
    extra = list(overrides or []) + ([f"train.steps={retrain_steps}"] if retrain_steps else [])
    out = out or DEFAULT_RUNS_DIR / "tickets" / f"{base.preset}-{scale}-d{density:g}-s{base.seed}"
    claim_tickets_folder(out, {"preset": base.preset, "scale": scale, "density": density,
                               "retrain_steps": retrain_steps, "overrides": list(overrides or [])})
    dense_dir = out / "dense"
    mask = f"{{kind: magnitude, density: {density}, source: '{dense_dir.resolve()}'}}"
    configs = {"dense": base, "ticket": resolve(preset, scale, [*extra, f"train.mask={mask}"]),
               "random_mask": resolve(preset, scale, [*extra, f"train.mask={{kind: random, density: {density}}}"])}
    for name in ("dense", "ticket", "random_mask"):
        _run_or_reuse(configs[name], out / name, show_progress)
    matched = resolve(preset, scale, [*extra, f"train.init_norm={_initial_norm(configs['ticket'])}"])
    _run_or_reuse(matched, out / "dense_matched_norm", show_progress)
    return load_tickets(out)


def claim_tickets_folder(out: Path, meta: dict[str, Any]) -> None:
    """Record what `out` holds, or refuse a folder that holds another ticket comparison."""
    marker = out / TICKETS_FILE
    if marker.is_file() and json.loads(marker.read_text()) != meta:
        raise ConfigError([f"{out} holds the tickets of {marker.read_text().strip()}; this run asks for "
                           f"{json.dumps(meta)}. Choose another --out (nothing was overwritten)."])
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(marker, json.dumps(meta))


def load_tickets(folder: Path, figures_dir: Path | None = None) -> TicketsResult:
    """Analyze a finished `tickets` folder and draw its test-accuracy overlay into `figures_dir` (default
    folder/figures); writes folder/tickets_summary.json when drawing into the folder itself."""
    meta = json.loads((folder / TICKETS_FILE).read_text())
    runs = {name: analyze(folder / name, write=False) for name in TICKET_RUNS}
    figure = (figures_dir or folder / "figures") / f"{folder.name}-tickets.png"
    dense = runs["dense"]  # folders written before tickets.json named preset and scale: read them from the run
    result = TicketsResult(folder, meta.get("preset") or dense.preset, meta.get("scale") or dense.scale,
                           meta["density"], runs, figure)
    save_figure(plot_overlay([(name, r.history) for name, r in runs.items()], ["test_acc", "train_acc"], set(),
                             f"{result.preset} ({result.scale}): density {result.density:g}"), figure)
    if figures_dir is None:
        atomic_write_text(folder / "tickets_summary.json", json.dumps(result.to_dict(), indent=1))
    return result


def find_tickets(root: Path) -> list[Path]:
    """Folders of the ticket procedure at or below `root`."""
    return sorted(p.parent for p in root.rglob(TICKETS_FILE)) if root.is_dir() else []


def _run_or_reuse(cfg: RunConfig, run_dir: Path, show_progress: bool) -> RunAnalysis:
    check_reusable(run_dir, cfg)
    state = point_state(run_dir)
    if state == "finished":
        return analyze(run_dir)
    handle = resume(run_dir, show_progress) if state == "unfinished" else run(cfg, run_dir, show_progress)
    return handle.result


def _initial_norm(cfg: RunConfig) -> float:
    """Total L2 norm of `cfg`'s model at initialization after its mask is applied (the ticket's start)."""
    import torch

    from groklab.tasks import build_task
    from groklab.train.objective import Objective
    from groklab.train.trainer import initial_model, param_norm

    model, _ = initial_model(cfg, build_task(cfg.task, cfg.seed), Objective(cfg), torch.device("cpu"))
    return round(param_norm(model), 6)


def analysis_spec(cfg: RunConfig, state: str) -> AnalysisSpec:
    a = cfg.analysis
    return AnalysisSpec(
        memorization_threshold=a.memorization_threshold, generalization_threshold=a.generalization_threshold,
        min_delay_ratio=a.min_delay_ratio, chance_accuracy=cfg.task.chance_accuracy, state=state,
    )


@dataclass(frozen=True)
class RunSummary:
    """One line of `groklab status`."""

    run_dir: Path
    preset: str | None
    scale: str | None
    seed: int | None
    state: RunState
    outcome: str | None
    job: JobState | None = None  # the scheduler's view of a run submitted with --executor slurm


def status(root: Path = DEFAULT_RUNS_DIR) -> list[RunSummary]:
    """State and outcome of every run folder under `root` (analysis is computed, nothing is written), merged
    with the scheduler's view of runs submitted to SLURM: a queued or running run whose job has ended
    without completing is shown as stopped, with the job's state."""
    run_dirs = find_runs(root)
    jobs = {run_dir: job["job_id"] for run_dir in run_dirs if (job := job_of(run_dir))}
    job_state = job_states(list(jobs.values()))
    summaries = []
    for run_dir in run_dirs:
        state = run_state(run_dir)
        job = job_state[jobs[run_dir]] if run_dir in jobs else None
        if job and not job.active and job.state != "COMPLETED" and state.state in ("queued", "running"):
            state = replace(state, state="stopped", eta_s=None,
                            note=f"its SLURM job ended {job.state}: submit again to resume it")
        try:
            result = analyze(run_dir, write=False)
            cfg, outcome = result.config, result.analysis.outcome
            if cfg is None:
                summaries.append(RunSummary(run_dir, f"imported {result.source['format']}", None, None, state,
                                            outcome, job))
                continue
        except (ConfigError, HistoryError):
            cfg, outcome = None, None
        summaries.append(RunSummary(run_dir, cfg and cfg.preset, cfg and cfg.scale, cfg and cfg.seed, state, outcome,
                                    job))
    return summaries


def run_facts(cfg: RunConfig) -> RunFacts:
    return RunFacts(n_classes=cfg.task.n_classes, loss=cfg.train.loss, optimizer=cfg.optim.name, lr=cfg.optim.lr,
                    weight_decay=cfg.optim.weight_decay, total_steps=cfg.train.steps)


def score(analysis: Analysis, cfg: RunConfig) -> Verdict:
    """The run against its preset's reported outcome (canonical scale only)."""
    if cfg.preset is None or cfg.preset not in discover():
        return verdict(analysis, cfg.scale, None)
    reported = get_preset(cfg.preset).reported
    return verdict(analysis, cfg.scale, reported.outcome, reported.generalization_step, reported.step_factor)


def load_run(run_dir: Path) -> tuple[RunConfig | None, dict[str, Any] | None]:
    """A run folder's config (groklab runs) or source description (imported runs)."""
    if (run_dir / "config.yaml").is_file():
        return load_config(run_dir / "config.yaml"), None
    if (run_dir / SOURCE_FILE).is_file():
        return None, json.loads((run_dir / SOURCE_FILE).read_text())
    raise ConfigError([f"{run_dir} is not a groklab run folder: it has no config.yaml (nor the source.json of an "
                       "imported log)"])


def analyze(run_dir: Path, write: bool = True) -> RunAnalysis:
    """Analyze a run folder; with `write`, also save analysis.json, training_history.json and figures."""
    cfg, source = load_run(run_dir)
    state = run_state(run_dir).state
    history = load_history(run_dir)
    analysis = analyze_history(history, analysis_spec(cfg, state) if cfg else AnalysisSpec(state=state))
    diagnosis = diagnose(analysis, history, run_facts(cfg) if cfg else RunFacts())
    scored = score(analysis, cfg) if cfg else verdict(analysis, None, None)
    facts = signature_facts(cfg, history) if cfg else {}
    result = RunAnalysis(run_dir, cfg, source, state, analysis, diagnosis, scored, history, facts)
    if write:
        atomic_write_text(run_dir / "analysis.json", json.dumps(result.to_dict(), indent=1))
        meta: dict[str, Any] = {"config": config_to_dict(cfg) if cfg else None, "source": source, "state": state}
        write_training_history(history, run_dir / "training_history.json", meta)
        title = (f"{cfg.preset or 'run'} ({cfg.scale or 'custom'}, seed {cfg.seed})" if cfg
                 else f"imported {source['format']} log")
        draw_run_figures(result, title, run_dir / "figures", "")
    return result


def draw_run_figures(result: RunAnalysis, title: str, folder: Path, prefix: str) -> tuple[Path, ...]:
    """Draw a run's figures into `folder` as PREFIXcurves.png, PREFIXdetail.png and, where the run records
    them, PREFIXprobes.png (probe series, Slingshots) and PREFIXneurons.png (Fourier spectra of the neurons)."""
    history, analysis = result.history, result.analysis
    figures = {"curves": lambda: plot_curves(history, analysis, title),
               "detail": lambda: plot_detail(history, analysis, title)}
    if probe_panels(history) or analysis.slingshots is not None:
        phases = {k: v for k, v in result.signature.items() if k.endswith("_phase")}
        keys = result.signature.get("key_freqs")
        probe_title = title if keys is None else f"{title}  ·  key frequencies {', '.join(map(str, keys)) or 'none'}"
        figures["probes"] = lambda: plot_probes(history, analysis, probe_title, phases)
    if result.config and {"embedding", "progress"} & set(result.config.eval.probes):
        from groklab.probes.embedding import checkpoint_embeddings, projection_panels

        found = checkpoint_embeddings(result.run_dir)
        if found:
            step, weight = found[-1]
            panels = [(name, points.numpy()) for name, points in projection_panels(weight, result.config)]
            figures["embedding"] = lambda: plot_embedding_planes(panels, f"{title}: embedding at step {step}")
    spectra = neuron_spectra_pair(result.config, result.run_dir) if result.config else None
    if spectra is not None:
        figures["neurons"] = lambda: plot_neuron_spectra(*spectra, title)
    drawn = []
    for name, draw in figures.items():
        drawn.append(folder / f"{prefix}{name}.png")
        save_figure(draw(), drawn[-1])
    return tuple(drawn)


MEASURES = ("embedding",)


def plot_measure(run_dir: Path, measure: str, out: Path | None = None) -> Path:
    """Draw `measure` across a run's kept checkpoints (train.keep_checkpoints_every) into `out` (default
    RUN/figures/<measure>-across-training.png)."""
    if measure not in MEASURES:
        raise ConfigError([f"unknown measure '{measure}'; choose one of: {', '.join(MEASURES)}"])
    from groklab.probes.embedding import embedding_across_training

    cfg = load_config(run_dir / "config.yaml")
    panels = embedding_across_training(run_dir, cfg)
    if not panels:
        raise ConfigError([f"{run_dir} has no checkpoint with a token embedding (model {cfg.model.name})"])
    out = out or run_dir / "figures" / f"{measure}-across-training.png"
    note = "" if cfg.train.keep_checkpoints_every else " (only the newest was kept: set train.keep_checkpoints_every)"
    save_figure(plot_embedding_planes([(name, points.numpy()) for name, points in panels],
                                      f"{cfg.preset or 'run'}: embedding across training{note}"), out)
    return out


def report(runs_dir: Path, out: Path) -> tuple[Path, Path]:
    """Write report.md and a self-contained report.html about every run under `runs_dir` into `out`.

    Run folders are only read: figures for the report are drawn into `out/figures`.
    """
    from groklab.accelerate import find_speedups, speedup_entry  # it builds on this module

    sweeps = [analyze_sweep(sweep_dir, out / "figures") for sweep_dir in find_sweeps(runs_dir)]
    ticket_results = []
    for folder in find_tickets(runs_dir):
        try:
            ticket_results.append(load_tickets(folder, out / "figures"))
        except (ConfigError, HistoryError):  # unfinished: its runs are reported one by one
            continue
    in_studies = {sweep.sweep_dir / point.name for sweep in sweeps for point, _ in sweep.points}
    in_studies |= {t.out / name for t in ticket_results for name in TICKET_RUNS}
    speedups = find_speedups(runs_dir)
    runs = [run_dir for run_dir in find_runs(runs_dir) if run_dir not in in_studies
            and not any(folder in run_dir.parents for folder in speedups)]
    studies = [(s.spec.preset, sweep_entry(s, runs_dir)) for s in sweeps]
    studies += [(t.preset, tickets_entry(t, runs_dir)) for t in ticket_results]
    across = [speedup_entry(folder, runs_dir, out / "figures") for folder in speedups]
    if not runs and not studies and not across:
        raise FileNotFoundError(f"no run folders (with config.yaml) under {runs_dir}")
    figures = out / "figures"
    entries, curves = [], []
    for run_dir in runs:
        name = str(run_dir.relative_to(runs_dir)) if run_dir != runs_dir else run_dir.name
        state = run_state(run_dir)
        try:
            result = analyze(run_dir, write=False)
        except (ConfigError, HistoryError) as err:
            entries.append(RunEntry(name, run_dir, state.state, state.note, None, (), problem=str(err)))
            continue
        drawn = draw_run_figures(result, name, figures, name.replace("/", "__") + "-")
        curves.append((name, result.history, result.analysis))
        entries.append(RunEntry(name, run_dir, state.state, state.note, result, drawn))
    comparison = None
    if curves:
        comparison = figures / "comparison.png"
        save_figure(plot_comparison(curves), comparison)
    data = ReportData(runs_dir, entries, _paper_sections(entries, studies, figures), comparison, across)
    out.mkdir(parents=True, exist_ok=True)
    md, page = out / "report.md", out / "report.html"
    atomic_write_text(md, render_markdown(data, lambda path: str(path.relative_to(out))))
    atomic_write_text(page, render_html(data))
    return md, page


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
        details = [f"{k} {format_fact(v)}" for k, v in result.signature.items()]
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


def tickets_entry(result: TicketsResult, runs_dir: Path) -> SweepEntry:
    """A ticket comparison's table, findings and figure for the report."""
    summary = result.to_dict()
    speedup = summary["speedup_vs_dense"]
    rows = result.table_rows()
    steps = summary["generalization_steps"]
    ticket = steps["ticket"]
    beaten = [name for name in ("dense", "random_mask", "dense_matched_norm")
              if ticket is not None and (steps[name] is None or ticket < steps[name])]
    where = result.out.relative_to(runs_dir) if result.out != runs_dir else result.out
    findings = [f"density {result.density:g} at the {result.scale} scale, in {where}",
                "the ticket generalizes sooner than " + (", ".join(beaten) if beaten else "none of the others")
                + (f" ({speedup['ticket']:.1f}x sooner than dense)" if speedup["ticket"] else "")]
    question = "does the magnitude-pruned ticket, rewound to its initialization, generalize sooner than the dense "
    question += "net, a random mask of the same density and the dense net at the ticket's weight norm?"
    return SweepEntry(result.out.name, question, list(TICKETS_HEADER), rows, findings, (result.figure,),
                      kind="Tickets")


def _paper_sections(
    entries: list[RunEntry], studies: list[tuple[str, SweepEntry]], figures: Path
) -> list[PaperSection]:
    """Group runs and studies (sweeps, ticket comparisons) by preset, in preset order; runs of unknown presets
    come last under 'other'. A scale with several finished seeds gets a seed-band figure."""
    by_preset: dict[str, list[RunEntry]] = {}
    sweeps_of: dict[str, list[SweepEntry]] = {}
    for entry in entries:
        preset = entry.result.preset if entry.result is not None else None
        key = preset if preset in discover() else "other"
        by_preset.setdefault(key, []).append(entry)
    for preset, study in studies:
        key = preset if preset in discover() else "other"
        sweeps_of.setdefault(key, []).append(study)
        by_preset.setdefault(key, [])
    sections = []
    for key, runs in sorted(by_preset.items(), key=lambda kv: (kv[0] == "other", kv[0])):
        finished = [r for r in runs if r.result is not None and r.state in ("completed", "diverged")]
        scale_of = {id(r): r.result.scale or "custom" for r in finished}
        seeds = {scale: aggregate([r.result.analysis for r in finished if scale_of[id(r)] == scale])
                 for scale in sorted(set(scale_of.values()))}
        bands = []
        for scale in seeds if key != "other" else ():
            group = [r.result.history for r in finished if scale_of[id(r)] == scale]
            if len(group) >= 2:
                bands.append(figures / f"{key}-{scale}-seeds.png")
                save_figure(plot_seed_bands(group, f"{key} ({scale})"), bands[-1])
        if key == "other":
            sections.append(PaperSection("other", "runs without a known preset", "", "", runs, seeds,
                                         sweeps=sweeps_of.get(key, [])))
            continue
        p = get_preset(key)
        reported = f"{p.reported.outcome} ({p.reported.summary}); preset version {p.version}"
        sections.append(PaperSection(p.id, p.title, p.citation, reported, runs, seeds, tuple(bands),
                                     sweeps_of.get(key, []), fidelity_line(p.id)))
    return sections


__all__ = [
    "PRESETS", "RunAnalysis", "RunHandle", "SweepAnalysis", "TicketsResult", "analyze", "analyze_sweep", "find_sweeps",
    "find_tickets", "get_preset", "load_tickets", "tickets",
    "new_run_dir", "presets", "report", "resolve", "resume", "run", "status", "suite", "sweep",
]
