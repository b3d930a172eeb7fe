"""Atomic checkpoints: written to a temporary file and renamed; the newest is kept, older ones pruned."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

PREFIX = "step_"


def _step_of(path: Path) -> int:
    return int(path.stem.removeprefix(PREFIX))


def checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints in `folder`, oldest first."""
    return sorted(folder.glob(f"{PREFIX}*.pt"), key=_step_of) if folder.is_dir() else []


def save_checkpoint(folder: Path, step: int, state: dict[str, Any], keep_every: int | None = None) -> Path:
    """Write `state` for `step` atomically, then remove older checkpoints, except those at multiples of
    `keep_every` (kept for analyses across training, e.g. `groklab plot RUN --measure embedding`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{PREFIX}{step:09d}.pt"
    tmp = path.with_suffix(".pt.tmp")
    with open(tmp, "wb") as handle:
        torch.save({"step": step, **state}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    for older in checkpoints(folder)[:-1]:
        if not (keep_every and _step_of(older) % keep_every == 0):
            older.unlink()
    return path


def load_latest(folder: Path, device: torch.device) -> dict[str, Any] | None:
    """The newest complete checkpoint, or None if there is none."""
    found = checkpoints(folder)
    return torch.load(found[-1], map_location=device, weights_only=False) if found else None
