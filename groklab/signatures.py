"""Paper-specific facts about a finished run, computed from its config and history.

Which facts apply follows from the config (task, probes), not from the preset's name, so a user's own
variant of a paper gets them too. Written under `signature` in analysis.json and shown in reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from groklab.analysis.events import first_step_at
from groklab.config import RunConfig
from groklab.history import History

RQI_DONE = 0.95  # Liu et al. report the step at which RQI reaches 0.95


def signature_facts(cfg: RunConfig, history: History) -> dict[str, Any]:
    """Facts that show a paper's phenomenon, for the parts of the config that have one."""
    facts: dict[str, Any] = {}
    last = history.records[-1]
    if cfg.task.name == "linear_teacher":
        from groklab.analysis.linear_theory import predict_events

        facts.update(predict_events(cfg, max(cfg.train.steps, int(history.steps[-1]))))
    if "rqi" in cfg.eval.probes and history.has("rqi"):
        facts["final_rqi"] = last.get("rqi")
        facts["rqi_step"] = first_step_at(history.steps, history.column("rqi"), RQI_DONE)
    if "fourier" in cfg.eval.probes and history.has("neuron_ipr"):
        from groklab.probes.fourier import analytic_accuracy

        facts["analytic_solution_accuracy"] = analytic_accuracy(cfg.task.p, cfg.model.width, cfg.task.operation)
        facts["final_neuron_ipr"] = last.get("neuron_ipr")
        facts["final_neuron_peak_share"] = last.get("neuron_peak_share")
        facts["initial_neuron_ipr"] = float(np.nan_to_num(history.column("neuron_ipr")[0]))
    return facts


def neuron_spectra_pair(cfg: RunConfig, run_dir: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(trained, analytic) power spectra of the hidden neurons, [neurons, frequencies] each, for a run with
    the fourier probe and a checkpoint; None otherwise."""
    if "fourier" not in cfg.eval.probes:
        return None
    import torch

    from groklab.probes.fourier import analytic_solution, neuron_spectra
    from groklab.train.checkpoint import load_latest

    checkpoint = load_latest(run_dir / "checkpoints", torch.device("cpu"))
    if checkpoint is None:
        return None
    task = cfg.task
    trained = neuron_spectra(checkpoint["model"]["net.0.weight"], task.p, task.n_terms, task.operation)
    analytic = neuron_spectra(analytic_solution(task.p, cfg.model.width, task.operation)[0], task.p, 2,
                              task.operation)
    return trained.numpy(), analytic.numpy()
