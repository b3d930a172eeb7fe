"""Paper-specific facts about a finished run, computed from its config and history.

Which facts apply follows from the config (task, probes), not from the preset's name, so a user's own
variant of a paper gets them too. Written under `signature` in analysis.json and shown in reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from groklab.analysis.events import first_step_at
from groklab.analysis.robustness import complexity_phases, delayed_robustness
from groklab.common.run_files import CHECKPOINTS_DIR
from groklab.config import RunConfig
from groklab.history import History

RQI_DONE = 0.95  # Liu et al. report the step at which RQI reaches 0.95
LC_RISE, LC_FALL = 0.1, 0.3  # local complexity 'rises then falls': +10% over its trough, then -30% from the peak


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
    if "progress" in cfg.eval.probes and history.has("restricted_loss"):
        from groklab.analysis.progress import progress_phases

        measured = [r for r in history.records if "restricted_loss" in r]
        facts["key_freqs"] = sorted(int(k.removeprefix("key_freq_")) for k in measured[-1] if k.startswith("key_freq_"))
        memorized = first_step_at(history.steps, history.column("train_acc"), cfg.analysis.memorization_threshold)
        facts.update(progress_phases(history.steps, memorized, history.column("test_loss"),
                                     history.column("restricted_loss"), history.column("excluded_loss"),
                                     history.column("weight_sq")))
    if cfg.task.name == "knowledge_graph":
        splits = sorted(name for name in last if name.startswith("acc_"))
        facts.update({f"final_{name}": last.get(name) for name in splits})
        ood = last.get("acc_test_inferred_ood")
        facts["ood_chance"] = cfg.task.chance_accuracy
        facts["ood_generalizes"] = None if ood is None else ood >= cfg.analysis.generalization_threshold
    if "local_complexity" in cfg.eval.probes and history.has("lc_train"):
        series = deepest_layer_series(history)
        phases = complexity_phases(history.steps, history.column(series))
        facts["lc_series"] = series
        facts.update({f"lc_{k}": phases[k] for k in ("peak_step", "rise", "fall")})
        facts["lc_rise_and_fall"] = phases["rise"] >= LC_RISE and phases["fall"] >= LC_FALL
    if "adversarial" in cfg.eval.probes and history.has("adversarial_acc"):
        robustness = delayed_robustness(history.steps, history.column("test_acc"), history.column("adversarial_acc"))
        late = robustness["late_transition"]
        facts["clean_settled_step"] = robustness["clean_settled_step"]
        facts["adversarial_transitions"] = len(robustness["adversarial_transitions"])
        facts["late_adversarial_step"] = late["mid_step"] if late else None
        facts["late_adversarial_gain"] = late["to_acc"] - late["from_acc"] if late else None
        facts["robustness_delay_ratio"] = robustness["delay_ratio"]
        facts["final_adversarial_acc"] = last.get("adversarial_acc")
    if "softmax_collapse" in cfg.eval.probes and history.has("sc_frac"):
        collapse = history.column("sc_frac")
        facts["final_sc_frac"] = last.get("sc_frac")
        facts["max_sc_frac"] = float(np.nanmax(collapse))
        facts["sc_half_step"] = first_step_at(history.steps, collapse, 0.5)
        facts["final_zero_grad_frac"] = last.get("zero_grad_frac")
    return facts


def deepest_layer_series(history: History) -> str:
    """The local complexity near training points of the last hidden layer (where Humayun et al.'s ascent
    and descent are clearest), or the sum over layers for histories without per-layer columns."""
    layers = [name for name in history.records[-1] if name.startswith("lc_train_layer")]
    return max(layers, key=lambda name: int(name.removeprefix("lc_train_layer")), default="lc_train")


def neuron_spectra_pair(cfg: RunConfig, run_dir: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(trained, analytic) power spectra of the hidden neurons, [neurons, frequencies] each, for a run with
    the fourier probe and a checkpoint; None otherwise."""
    if "fourier" not in cfg.eval.probes:
        return None
    import torch

    from groklab.common.checkpoint import load_latest
    from groklab.probes.fourier import analytic_solution, neuron_spectra

    checkpoint = load_latest(run_dir / CHECKPOINTS_DIR, torch.device("cpu"))
    if checkpoint is None:
        return None
    task = cfg.task
    trained = neuron_spectra(checkpoint["model"]["net.0.weight"], task.p, task.n_terms, task.operation)
    analytic = neuron_spectra(analytic_solution(task.p, cfg.model.width, task.operation)[0], task.p, 2,
                              task.operation)
    return trained.numpy(), analytic.numpy()
