"""One seed drives the data split, the initialization and the batch order, through named sub-streams."""

from __future__ import annotations

import hashlib

import torch


def substream(seed: int, name: str) -> int:
    """A 63-bit seed derived from (seed, name), independent across names."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def generator(seed: int, name: str) -> torch.Generator:
    """A CPU torch.Generator for the named sub-stream."""
    return torch.Generator().manual_seed(substream(seed, name))
