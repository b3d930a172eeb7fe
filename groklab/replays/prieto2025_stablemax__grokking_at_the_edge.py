"""The replay of grokking-at-the-edge (prieto2025_stablemax, canonical): its bias-free MLP, full batch."""

from __future__ import annotations

from groklab.config.schema import RunConfig
from groklab.fidelity import Arrays, Replay, pairs_split


def _stablemax_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """grokking-at-the-edge's MLP (layers.i, ReLU between, no biases) -> groklab's MLP (net.0, net.2, ...)."""
    return {f"net.{2 * i}.weight": init[f"layers.{i}.weight"] for i in range(cfg.model.depth)}


REPLAY = Replay(
    "prieto2025_stablemax", "canonical", original=(), split=pairs_split, weights=_stablemax_weights,
)
