"""Representation Quality Index (Liu et al. 2022): how many parallelograms the learned embedding satisfies."""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from groklab.analysis.events import first_step_at
from groklab.probes.base import Panel, Probe, register

RQI_TOLERANCE = 0.01  # Liu et al.'s threshold_P on the mean squared parallelogram error of normalized representations


@lru_cache(maxsize=8)
def parallelograms(p: int) -> torch.Tensor:
    """All (i, n, j, m) with i < j <= m < n and i + n = j + m (built once per p; callers must not modify it)."""
    quads = [(i, n, j, m) for i in range(p) for j in range(i + 1, p) for m in range(j, p) for n in range(m + 1, p)
             if i + n == j + m]
    return torch.tensor(quads, dtype=torch.long).reshape(-1, 4)


def representation_quality(embedding: torch.Tensor, tolerance: float = RQI_TOLERANCE) -> float:
    """Fraction of parallelograms satisfied by the representations normalized to zero mean and unit
    variance per dimension: mean over dimensions of (r_i + r_n - r_j - r_m)^2 below `tolerance`."""
    quads = parallelograms(embedding.shape[0])
    if len(quads) == 0:
        return 1.0
    scaled = (embedding - embedding.mean(0)) / embedding.std(0).clamp_min(1e-12)
    r = scaled[quads]  # [K, 4, dim]
    error = (r[:, 0] + r[:, 1] - r[:, 2] - r[:, 3]).pow(2).mean(-1)
    return (error < tolerance).double().mean().item()


@torch.no_grad()
def rqi(model: nn.Module, data, cfg) -> dict[str, float]:
    embedding = getattr(model, "embed", None)
    if not isinstance(embedding, torch.Tensor):
        raise ValueError("probe rqi needs a model with learned representations (model.name=repr_mlp)")
    return {"rqi": representation_quality(embedding.detach())}


RQI_DONE = 0.95  # Liu et al. report the step at which RQI reaches 0.95


def rqi_facts(cfg, history) -> dict:
    """The final RQI and the step at which it first reaches RQI_DONE."""
    if not history.has("rqi"):
        return {}
    return {"final_rqi": history.records[-1].get("rqi"),
            "rqi_step": first_step_at(history.steps, history.column("rqi"), RQI_DONE)}


register(Probe(
    "rqi", rqi,
    unsupported=lambda cfg: None if cfg.model.name == "repr_mlp" else
    "eval.probes rqi measures learned representations: it needs model.name=repr_mlp",
    facts=rqi_facts,
    panels=(Panel("representation quality (RQI)", (("rqi", ""),)),),
))
