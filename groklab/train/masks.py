"""Sparsity masks over weight matrices: global magnitude pruning and seeded random masks."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from groklab.common.checkpoint import load_latest
from groklab.common.run_folder import CHECKPOINTS_DIR
from groklab.common.seeding import generator
from groklab.config.schema import MaskCfg


def prunable(model: nn.Module) -> dict[str, nn.Parameter]:
    """The weight matrices (parameters with two or more dimensions); biases and gains are never pruned."""
    return {name: p for name, p in model.named_parameters() if p.dim() >= 2}


def keep_top(scores: dict[str, torch.Tensor], density: float) -> dict[str, torch.Tensor]:
    """Boolean masks keeping the globally highest `density` fraction of all scores."""
    flat = torch.cat([s.flatten() for s in scores.values()])
    k = max(1, round(density * flat.numel()))
    threshold = torch.topk(flat, k).values.min()
    masks = {name: s >= threshold for name, s in scores.items()}
    excess = sum(int(m.sum()) for m in masks.values()) - k  # ties at the threshold: drop the extra ones
    for name, m in masks.items():
        if excess <= 0:
            break
        ties = torch.nonzero((scores[name] == threshold) & m, as_tuple=False)[:excess]
        m[tuple(ties.T)] = False
        excess -= len(ties)
    return masks


def build_mask(model: nn.Module, cfg: MaskCfg, seed: int, device: torch.device) -> dict[str, torch.Tensor]:
    """The run's mask: by the magnitude of the source run's final weights, or seeded random scores."""
    weights = prunable(model)
    if cfg.kind == "random":
        g = generator(seed, "mask")
        scores = {name: torch.rand(p.shape, generator=g).to(device) for name, p in weights.items()}
        return keep_top(scores, cfg.density)
    checkpoint = load_latest(Path(cfg.source) / CHECKPOINTS_DIR, device)
    if checkpoint is None:
        raise FileNotFoundError(f"train.mask.source={cfg.source} has no checkpoint: train the dense run first")
    state = checkpoint["model"]
    missing = [name for name in weights if name not in state or state[name].shape != weights[name].shape]
    if missing:
        raise ValueError(f"train.mask.source={cfg.source} holds a different model (no matching {missing[0]}); "
                         "the source must be the same architecture")
    return keep_top({name: state[name].abs() for name in weights}, cfg.density)


@torch.no_grad()
def apply_mask(model: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    """Zero the pruned entries (after initialization and after every optimizer step)."""
    for name, p in prunable(model).items():
        p.mul_(masks[name])
