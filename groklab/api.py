"""The Python API that the CLI wraps: resolve configs, run, resume and analyze runs."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groklab.analysis import (
    Analysis,
    AnalysisSpec,
    Diagnosis,
    RunFacts,
    Verdict,
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
from groklab.history import atomic_write_text, load_history, write_training_history
from groklab.plots import plot_curves, save_figure
from groklab.presets import PRESETS, Preset, discover
from groklab.train.status import read_status, write_status

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
    config: RunConfig
    state: str
    analysis: Analysis
    diagnosis: Diagnosis
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        cfg = self.config
        return {"run_dir": str(self.run_dir), "preset": cfg.preset, "scale": cfg.scale, "seed": cfg.seed,
                "state": self.state, **self.analysis.to_dict(), "diagnosis": self.diagnosis.to_dict(),
                "verdict": self.verdict.to_dict()}


@dataclass(frozen=True)
class RunHandle:
    run_dir: Path
    state: str
    result: RunAnalysis


def run(cfg: RunConfig, out: Path | None = None, show_progress: bool = True) -> RunHandle:
    """Train `cfg` locally into a new run folder, then analyze it and draw its figures."""
    run_dir = new_run_dir(cfg, out)
    dump_config(cfg, run_dir / "config.yaml")
    write_status(run_dir, "queued", total_steps=cfg.train.steps)
    return _train_and_finish(cfg, run_dir, resume=False, show_progress=show_progress)


def resume(run_dir: Path, show_progress: bool = True) -> RunHandle:
    """Continue a killed or stopped run from its newest checkpoint, with the config it was started with."""
    if not (run_dir / "config.yaml").is_file():
        raise ConfigError([f"{run_dir} is not a groklab run folder (no config.yaml)"])
    cfg = load_config(run_dir / "config.yaml")
    return _train_and_finish(cfg, run_dir, resume=True, show_progress=show_progress)


def _train_and_finish(cfg: RunConfig, run_dir: Path, resume: bool, show_progress: bool) -> RunHandle:
    from groklab.train.trainer import train  # torch is imported only when training

    try:
        result = train(cfg, run_dir, resume=resume, show_progress=show_progress)
    except BaseException as err:
        write_status(run_dir, "failed", error=f"{type(err).__name__}: {err}")
        raise
    return RunHandle(run_dir, result.state, analyze(run_dir))


def suite(scale: str = "quick", out: Path | None = None, show_progress: bool = True) -> dict[str, RunHandle]:
    """Run `scale` of every preset into `out`/<preset id>/ and analyze each."""
    out = out or DEFAULT_RUNS_DIR / f"suite-{scale}-{time.strftime('%Y%m%d-%H%M%S')}"
    configs = {preset.id: resolve(preset.id, scale) for preset in presets()}  # validate all before any work
    return {name: run(cfg, out / name, show_progress=show_progress) for name, cfg in configs.items()}


def analysis_spec(cfg: RunConfig, state: str) -> AnalysisSpec:
    a = cfg.analysis
    return AnalysisSpec(
        memorization_threshold=a.memorization_threshold, generalization_threshold=a.generalization_threshold,
        min_delay_ratio=a.min_delay_ratio, chance_accuracy=1 / cfg.task.n_classes, state=state,
    )


def run_facts(cfg: RunConfig) -> RunFacts:
    return RunFacts(n_classes=cfg.task.n_classes, loss=cfg.train.loss, optimizer=cfg.optim.name, lr=cfg.optim.lr,
                    weight_decay=cfg.optim.weight_decay, total_steps=cfg.train.steps)


def score(analysis: Analysis, cfg: RunConfig) -> Verdict:
    """The run against its preset's reported outcome (canonical scale only)."""
    if cfg.preset is None or cfg.preset not in discover():
        return verdict(analysis, cfg.scale, None)
    reported = get_preset(cfg.preset).reported
    return verdict(analysis, cfg.scale, reported.outcome, reported.generalization_step, reported.step_factor)


def analyze(run_dir: Path, write: bool = True) -> RunAnalysis:
    """Analyze a run folder; with `write`, also save analysis.json, training_history.json and figures."""
    cfg = load_config(run_dir / "config.yaml")
    state = (read_status(run_dir) or {}).get("state", "completed")
    history = load_history(run_dir)
    analysis = analyze_history(history, analysis_spec(cfg, state))
    diagnosis = diagnose(analysis, history, run_facts(cfg))
    result = RunAnalysis(run_dir, cfg, state, analysis, diagnosis, score(analysis, cfg))
    if write:
        atomic_write_text(run_dir / "analysis.json", json.dumps(result.to_dict(), indent=1))
        meta: dict[str, Any] = {"config": config_to_dict(cfg), "state": state}
        write_training_history(history, run_dir / "training_history.json", meta)
        title = f"{cfg.preset or 'run'} ({cfg.scale or 'custom'}, seed {cfg.seed})"
        save_figure(plot_curves(history, analysis, title), run_dir / "figures" / "curves.png")
    return result


__all__ = [
    "PRESETS", "RunAnalysis", "RunHandle", "analyze", "get_preset", "new_run_dir", "presets", "resolve", "resume",
    "run", "suite",
]
