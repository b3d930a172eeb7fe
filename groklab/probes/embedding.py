"""Geometry of a learned token embedding: effective rank, and its 2-D projection on the plane of one Fourier
frequency (residues of a modular task, where a grokked model draws circles) or on its top two principal
components (any other task)."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from groklab.common.run_folder import CHECKPOINTS_DIR
from groklab.probes.base import Probe, register
from groklab.probes.progress import fourier_basis, frequency_norms

EMBEDDING_KEYS = ("embed.weight", "embed")  # state-dict names of the models' token embeddings


def effective_rank(matrix: torch.Tensor) -> float:
    """exp(entropy of the normalized singular values) (Roy and Vetterli 2007): 1 for rank one, d for d equal
    singular values."""
    return spectral_rank(torch.linalg.svdvals(matrix.double()))


def spectral_rank(singular: torch.Tensor) -> float:
    """effective_rank from a matrix's singular values."""
    share = singular / singular.sum().clamp_min(1e-30)
    share = share[share > 0]
    return float(torch.exp(-(share * share.log()).sum()))


def residue_rows(embedding: torch.Tensor, cfg) -> torch.Tensor:
    """The rows of the operands: the first p rows for a modular task, every row otherwise."""
    return embedding[: cfg.task.p] if cfg.task.name == "modular" else embedding


def fourier_plane(embedding: torch.Tensor, frequency: int) -> torch.Tensor:
    """[p, 2]: each residue's embedding projected on the plane spanned by the embedding's cos and sin
    components at `frequency` (a circle ordered by frequency * x mod p when the model uses that frequency)."""
    p = embedding.shape[0]
    coefficients = fourier_basis(p) @ embedding.double()  # [p, d]: rows = const, cos1, sin1, ...
    plane = torch.stack([coefficients[2 * frequency - 1], coefficients[2 * frequency]])  # [2, d]
    q = torch.linalg.qr(plane.T).Q  # orthonormal basis of the plane, [d, 2]
    return (embedding.double() - embedding.double().mean(0)) @ q


def strongest_frequencies(embedding: torch.Tensor, count: int = 3) -> list[int]:
    """The `count` frequencies with the largest embedding norm (cos and sin together)."""
    norms = frequency_norms(embedding, embedding.shape[0])
    return [int(k) + 1 for k in norms.argsort(descending=True)[:count]]


def principal_plane(embedding: torch.Tensor) -> torch.Tensor:
    """[n, 2]: the rows projected on their top two principal components."""
    centred = embedding.double() - embedding.double().mean(0)
    return centred @ torch.linalg.svd(centred, full_matrices=False).Vh[:2].T


def embedding_of(state: dict[str, torch.Tensor]) -> torch.Tensor | None:
    """The token embedding in a model state dict, or None for models without one."""
    return next((state[k] for k in EMBEDDING_KEYS if k in state), None)


def checkpoint_embeddings(run_dir: Path) -> list[tuple[int, torch.Tensor]]:
    """(step, embedding) of every checkpoint kept in a run folder, oldest first."""
    from groklab.common.checkpoint import checkpoints, load_checkpoint

    found = []
    for path in checkpoints(run_dir / CHECKPOINTS_DIR):
        state = load_checkpoint(path, torch.device("cpu"))
        embedding = embedding_of(state["model"])
        if embedding is not None:
            found.append((int(state["step"]), embedding))
    return found


@torch.no_grad()
def embedding(model: nn.Module, data, cfg) -> dict[str, float]:
    """embed_effective_rank of the operand rows of the embedding; for modular tasks also embed_top_frequency
    and embed_top_share (its share of the embedding's non-constant Fourier power)."""
    weight = embedding_of(dict(model.state_dict()))
    if weight is None:
        raise ValueError("eval.probes embedding needs a model with a token embedding")
    rows = residue_rows(weight.cpu(), cfg)
    values = {"embed_effective_rank": effective_rank(rows)}
    if cfg.task.name == "modular" and rows.shape[0] % 2 == 1:
        power = frequency_norms(rows, rows.shape[0]).pow(2)
        values["embed_top_frequency"] = float(power.argmax() + 1)
        values["embed_top_share"] = float(power.max() / power.sum().clamp_min(1e-30))
    return values


def circle_score(points: torch.Tensor, frequency: int) -> float:
    """How well 2-D points lie on a circle in the order frequency * x mod p, from 0 to 1: the mean cosine between
    each point's angle and the ideal angle 2 pi k x / p (best rotation and reflection) times one minus the
    coefficient of variation of the radii. A Fourier plane of noise scores about 0.4, a clean circle near 1."""
    p = points.shape[0]
    angle = torch.atan2(points[:, 1], points[:, 0])
    ideal = 2 * math.pi * frequency * torch.arange(p, dtype=torch.float64) / p
    order = 0.0
    for sign in (1, -1):
        offset = torch.atan2(torch.sin(sign * angle - ideal).mean(), torch.cos(sign * angle - ideal).mean())
        order = max(order, float(torch.cos(sign * angle - ideal - offset).mean()))
    radius = points.double().norm(dim=1)
    roundness = max(0.0, 1 - float(radius.std() / radius.mean().clamp_min(1e-30)))
    return order * roundness


Panel = tuple[str, torch.Tensor]


def projection_panels(embedding: torch.Tensor, cfg, frequencies: list[int] | None = None) -> list[Panel]:
    """(title, [n, 2] points) panels of one embedding: for a modular task its planes at `frequencies` (default:
    its three strongest) with each plane's circle score; otherwise its top two principal components."""
    rows = residue_rows(embedding, cfg)
    if cfg.task.name != "modular" or rows.shape[0] % 2 == 0:
        return [(f"top principal components (effective rank {effective_rank(rows):.1f})", principal_plane(rows))]
    panels = []
    for k in frequencies or strongest_frequencies(rows):
        points = fourier_plane(rows, k)
        panels.append((f"frequency {k}: circle {circle_score(points, k):.2f}", points))
    return panels


def embedding_across_training(run_dir: Path, cfg, max_panels: int = 8) -> list[Panel]:
    """The kept checkpoints' embeddings (at most `max_panels`, evenly chosen) on the plane of the final
    embedding's strongest frequency (modular tasks) or each on its own principal components."""
    found = checkpoint_embeddings(run_dir)
    if not found:
        return []
    chosen = [found[round(i)] for i in torch.linspace(0, len(found) - 1, min(max_panels, len(found))).tolist()]
    final = residue_rows(found[-1][1], cfg)
    frequency = strongest_frequencies(final, 1) if cfg.task.name == "modular" and final.shape[0] % 2 else None
    return [(f"step {step}: {title}", points) for step, weight in chosen
            for title, points in projection_panels(weight, cfg, frequency)]


TOKEN_MODELS = ("transformer", "repr_mlp", "token_sum_mlp")

register(Probe(
    "embedding", embedding,
    unsupported=lambda cfg: None if cfg.model.name in TOKEN_MODELS else
    f"eval.probes embedding needs a model with a token embedding ({', '.join(TOKEN_MODELS)}); model "
    f"{cfg.model.name} has none",
))
