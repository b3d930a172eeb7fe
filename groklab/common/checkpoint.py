"""Atomic checkpoints: written to a temporary file and renamed; the newest is kept, older ones pruned."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

PREFIX = "step_"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read."""


def _step_of(path: Path) -> int:
    return int(path.stem.removeprefix(PREFIX))


def checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints in `folder` (files named step_<number>.pt), oldest first."""
    found = [p for p in folder.glob(f"{PREFIX}*.pt") if p.stem.removeprefix(PREFIX).isdigit()] if folder.is_dir() \
        else []
    return sorted(found, key=_step_of)


def load_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    """One checkpoint, or a CheckpointError that names the file and what to do."""
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as err:  # noqa: BLE001  (torch raises many kinds for a damaged file)
        raise CheckpointError(f"{path} cannot be read ({type(err).__name__}: {str(err)[:120]}): it is damaged or "
                              "not a groklab checkpoint; move it out of the folder to use the one before it, or "
                              "start the run again") from None
    if not isinstance(state, dict) or "step" not in state:
        raise CheckpointError(f"{path} is not a groklab checkpoint (no step recorded); move it out of the folder")
    return state


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
    return load_checkpoint(found[-1], device) if found else None
