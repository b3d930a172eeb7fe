"""Softmax collapse (Prieto et al. 2025): confident predictions whose loss and gradient round to exactly zero."""

from __future__ import annotations

import numpy as np
import torch

from groklab.analysis.events import first_step_at
from groklab.objective import Objective
from groklab.probes.base import Panel, Probe, register

CHUNK = 8192


def softmax_collapse(model: torch.nn.Module, data, cfg) -> dict[str, float]:
    """On the training set, with the run's own loss in train.loss_dtype: sc_frac, the share of samples whose
    loss rounds to exactly zero (their predicted probability of the label is exactly 1: the paper's zero-terms
    measure; for softmax, every other class is absorbed in the sum of exponentials); and zero_grad_frac, the
    share whose loss gradient with respect to the logits is exactly zero (those samples no longer train)."""
    objective = Objective(cfg, data.train_x.device)
    dtype = getattr(torch, cfg.train.loss_dtype)
    collapsed, zero_grad = 0, 0
    for start in range(0, len(data.train_y), CHUNK):
        with torch.no_grad():
            logits = model(data.train_x[start : start + CHUNK]).to(dtype)
        logits.requires_grad_(True)
        with torch.enable_grad():
            losses = objective.per_sample(logits, data.train_y[start : start + CHUNK])
            (grad,) = torch.autograd.grad(losses.sum(), logits)
        collapsed += int((losses == 0).sum())
        zero_grad += int((grad == 0).all(-1).sum())
    n = len(data.train_y)
    return {"sc_frac": collapsed / n, "zero_grad_frac": zero_grad / n}


def collapse_facts(cfg, history) -> dict:
    """The final and largest collapsed share, the step at which half the training set has collapsed, and the
    final share of samples that no longer train."""
    if not history.has("sc_frac"):
        return {}
    collapse, last = history.column("sc_frac"), history.records[-1]
    return {"final_sc_frac": last.get("sc_frac"), "max_sc_frac": float(np.nanmax(collapse)),
            "sc_half_step": first_step_at(history.steps, collapse, 0.5),
            "final_zero_grad_frac": last.get("zero_grad_frac")}


register(Probe(
    "softmax_collapse", softmax_collapse,
    unsupported=lambda cfg: None if cfg.train.loss in ("cross_entropy", "stablemax") else
    f"eval.probes softmax_collapse measures a classifier's softmax: it needs train.loss=cross_entropy or "
    f"stablemax, not {cfg.train.loss}",
    facts=collapse_facts,
    panels=(Panel("softmax collapse (share of training samples)", (("sc_frac", "loss rounds to 0"),
                                                                   ("zero_grad_frac", "gradient exactly 0"))),),
))
