"""What groklab concludes about one run folder: events, outcome, diagnosis, verdict, paper facts and figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

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
from groklab.common.checkpoint import CheckpointError, checkpoints, load_checkpoint
from groklab.common.files import json_text, write_atomic
from groklab.common.run_folder import (
    ANALYSIS_FILE,
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    FIGURES_DIR,
    TRAINING_HISTORY_FILE,
    read_status,
    run_state,
)
from groklab.config import ConfigError, RunConfig, config_to_dict, load_config
from groklab.history import History, load_history, write_training_history
from groklab.objective import Objective
from groklab.plots import (
    plot_curves,
    plot_detail,
    plot_embedding_planes,
    plot_neuron_spectra,
    plot_probes,
    probe_panels,
    save_figure,
)
from groklab.plots.series import Skipped
from groklab.plots.thinning import thin_history
from groklab.presets import discover
from groklab.probes import unknown_probes
from groklab.probes.fourier import neuron_spectra_pair
from groklab.probes.representation import features_and_logits, linear_cka
from groklab.resolve import get_preset
from groklab.run.claims_verdict import claims_verdict
from groklab.run.folder import load_run
from groklab.signatures import signature_facts
from groklab.tasks import build_task
from groklab.train.trainer import build_model_for


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


def analysis_spec(cfg: RunConfig, state: str) -> AnalysisSpec:
    a = cfg.analysis
    return AnalysisSpec(
        memorization_threshold=a.memorization_threshold, generalization_threshold=a.generalization_threshold,
        min_delay_ratio=a.min_delay_ratio, chance_accuracy=cfg.task.chance_accuracy, state=state,
    )


def run_facts(cfg: RunConfig, stopped_early: str | None = None) -> RunFacts:
    return RunFacts(n_classes=cfg.task.n_classes, loss=cfg.train.loss, optimizer=cfg.optim.name, lr=cfg.optim.lr,
                    weight_decay=cfg.optim.weight_decay, total_steps=cfg.train.steps, stopped_early=stopped_early)


def score(analysis: Analysis, cfg: RunConfig) -> Verdict:
    """The run against its preset's reported outcome (canonical scale only)."""
    if cfg.preset is None or cfg.preset not in discover():
        return verdict(analysis, cfg.scale, None)
    reported = get_preset(cfg.preset).reported
    return verdict(analysis, cfg.scale, reported.outcome, reported.generalization_step, reported.step_factor)


def analyze(run_dir: Path, write: bool = True) -> RunAnalysis:
    """Analyze a run folder; with `write`, also save analysis.json, training_history.json and figures."""
    cfg, source = load_run(run_dir)
    state = run_state(run_dir).state
    history = load_history(run_dir)
    analysis = analyze_history(history, analysis_spec(cfg, state) if cfg else AnalysisSpec(state=state))
    if cfg:  # a probe this groklab does not know adds no facts and no panels: said, not fatal
        analysis.problems.extend(f"{run_dir / CONFIG_FILE}: {problem} (its facts are left out)"
                                 for problem in unknown_probes(cfg))
    stopped_early = (read_status(run_dir) or {}).get("stopped_early")
    diagnosis = diagnose(analysis, history, run_facts(cfg, stopped_early) if cfg else RunFacts())
    scored = score(analysis, cfg) if cfg else verdict(analysis, None, None)
    facts = signature_facts(cfg, history) if cfg else {}
    result = RunAnalysis(run_dir, cfg, source, state, analysis, diagnosis, scored, history, facts)
    judged = claims_verdict(result)  # the claims this run decides, where there are any
    if judged is not None:
        result = replace(result, verdict=judged)
    if write:
        title = (f"{cfg.preset or 'run'} ({cfg.scale or 'custom'}, seed {cfg.seed})" if cfg
                 else f"imported {source['format']} log")
        draw_run_figures(result, title, run_dir / FIGURES_DIR, "")  # first: what they cannot draw is a problem
        write_atomic(run_dir / ANALYSIS_FILE, json_text(result.to_dict()))
        meta: dict[str, Any] = {"config": config_to_dict(cfg) if cfg else None, "source": source, "state": state}
        write_training_history(history, run_dir / TRAINING_HISTORY_FILE, meta)
    return result


def draw_run_figures(result: RunAnalysis, title: str, folder: Path, prefix: str) -> tuple[Path, ...]:
    """Draw a run's figures into `folder` as PREFIXcurves.png, PREFIXdetail.png and, where the run records
    them, PREFIXprobes.png (probe series, Slingshots) and PREFIXneurons.png (Fourier spectra of the neurons).

    They are drawn from the history thinned to a few thousand evaluations (groklab.plots.thinning), so a history
    of 10^6 records draws as fast as a short one. What they cannot draw as asked (a series with no finite value,
    a log axis with no positive value, checkpoints that cannot be read) is added to `result.analysis.problems`,
    one statement per series and reason, so the analysis.json written after them, `groklab analyze`'s notes and
    the report say what is missing and why."""
    analysis, skipped, problems = result.analysis, Skipped(), []
    history = thin_history(result.history, analysis)
    figures = {"curves": lambda: plot_curves(history, analysis, title, skipped),
               "detail": lambda: plot_detail(history, analysis, title, skipped)}
    if probe_panels(history) or analysis.slingshots is not None:
        phases = {k: v for k, v in result.signature.items() if k.endswith("_phase")}
        keys = result.signature.get("key_freqs")
        probe_title = title if keys is None else f"{title}  ·  key frequencies {', '.join(map(str, keys)) or 'none'}"
        figures["probes"] = lambda: plot_probes(history, analysis, probe_title, phases, skipped)
    try:
        figures.update(checkpoint_figures(result, title))
    except CheckpointError as err:  # the figures drawn from the history are still worth having
        problems.append(f"figures from checkpoints not drawn: {err}")
    drawn = []
    for name, draw in figures.items():
        drawn.append(folder / f"{prefix}{name}.png")
        save_figure(draw(), drawn[-1])
    analysis.problems.extend(p for p in problems + skipped.problems() if p not in analysis.problems)
    return tuple(drawn)


def checkpoint_figures(result: RunAnalysis, title: str) -> dict[str, Callable[[], Any]]:
    """Figures drawn from the run's kept checkpoints: the embedding on its strongest planes, the neurons'
    Fourier spectra."""
    figures: dict[str, Callable[[], Any]] = {}
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
    return figures


@torch.no_grad()
def cka_to_final(run_dir: Path) -> tuple[list[int], dict[str, list[float]]]:
    """Linear CKA of the output layer's input at every kept checkpoint of a run with that at its last checkpoint,
    on the probe's fixed sample of training and test inputs: (steps, {"rep_cka_final_train": [...],
    "rep_cka_final_test": [...]}). Computed after the run; as many points as train.keep_checkpoints_every kept."""
    cfg = load_config(run_dir / CONFIG_FILE)
    data = build_task(cfg.task, cfg.seed)
    model = build_model_for(cfg, data, Objective(cfg)).eval()
    steps, features = [], []
    for path in checkpoints(run_dir / CHECKPOINTS_DIR):
        state = load_checkpoint(path, torch.device("cpu"))
        try:
            model.load_state_dict(state["model"])
        except (KeyError, RuntimeError) as err:  # the config was changed after the run, or the file is not its own
            first = str(err).strip().splitlines()[-1].strip() if str(err).strip() else type(err).__name__
            raise CheckpointError(f"{path} does not hold the weights of the model {run_dir / CONFIG_FILE} "
                                  f"describes ({first[:160]}): was the config edited after the run?") from None
        steps.append(int(state["step"]))
        features.append({split: features_and_logits(model, x)[0] for split, x in (("train", data.train_x),
                                                                                    ("test", data.test_x))})
    series = {f"rep_cka_final_{split}": [linear_cka(f[split], features[-1][split]) for f in features]
              for split in ("train", "test")}
    return steps, series


MEASURES = ("embedding", "cka_final")


def plot_measure(run_dir: Path, measure: str, out: Path | None = None) -> Path:
    """Draw `measure` across a run's kept checkpoints (train.keep_checkpoints_every) into `out` (default
    RUN/figures/<measure>-across-training.png): embedding, the embedding's principal planes; cka_final, the
    linear CKA of the output layer's input with the last checkpoint's, beside test accuracy."""
    if measure not in MEASURES:
        raise ConfigError([f"unknown measure '{measure}'; choose one of: {', '.join(MEASURES)}"])
    cfg = load_config(run_dir / CONFIG_FILE)
    out = out or run_dir / FIGURES_DIR / f"{measure}-across-training.png"
    note = "" if cfg.train.keep_checkpoints_every else " (only the newest was kept: set train.keep_checkpoints_every)"
    save_figure(_cka_final_figure(run_dir, cfg, note) if measure == "cka_final" else
                _embedding_figure(run_dir, cfg, note), out)
    return out


def _embedding_figure(run_dir: Path, cfg: RunConfig, note: str):
    from groklab.probes.embedding import embedding_across_training

    panels = embedding_across_training(run_dir, cfg)
    if not panels:
        raise ConfigError([f"{run_dir} has no checkpoint with a token embedding (model {cfg.model.name})"])
    return plot_embedding_planes([(name, points.numpy()) for name, points in panels],
                                 f"{cfg.preset or 'run'}: embedding across training{note}")


def _cka_final_figure(run_dir: Path, cfg: RunConfig, note: str):
    from groklab.plots.geometry import plot_against_steps

    steps, series = cka_to_final(run_dir)
    if len(steps) < 2:
        raise ConfigError([f"{run_dir} kept {len(steps)} checkpoint(s); CKA with the final network needs at least "
                           f"two: rerun with train.keep_checkpoints_every set"])
    result = analyze(run_dir, write=False)
    history = thin_history(result.history, result.analysis)
    marks = {"memorization": result.analysis.memorization_step,
             "generalization": result.analysis.generalization_step}
    return plot_against_steps(steps, series, (history.steps, history.column("test_acc")), marks,
                              f"{cfg.preset or 'run'}: representation CKA with step {steps[-1]}{note}")
