"""Atomic checkpoints: written to a temporary file and renamed; the newest is kept, older ones pruned.

A checkpoint holds only tensors, numbers, strings and the lists and dicts of them (model, optimizer, gradient
filter and RNG state) and is read with torch's weights-only loader, which builds nothing else: a file crafted to
run code when unpickled is refused, not run. Checkpoints written by earlier versions hold the same types and load
unchanged.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any

import torch

from groklab.common.files import make_folder, write_atomic, writing

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
        state = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as err:
        if "Weights only load failed" not in str(err):
            raise _unreadable(path, err) from None
        found = next((line.strip().rstrip(".") for line in str(err).splitlines()
                      if "unsupported" in line.lower()), "objects other than tensors and numbers")
        raise CheckpointError(f"{path} is refused: it holds Python objects that loading would build or run "
                              f"({found[:120]}), and a groklab checkpoint holds only tensors and numbers. It was "
                              "not written by groklab or was altered; nothing in it was run. Move it out of the "
                              "folder to use the checkpoint before it") from None
    except Exception as err:  # noqa: BLE001  (torch raises many kinds for a damaged file)
        raise _unreadable(path, err) from None
    if not isinstance(state, dict) or "step" not in state:
        raise CheckpointError(f"{path} is not a groklab checkpoint (no step recorded); move it out of the folder")
    return state


def _unreadable(path: Path, err: Exception) -> CheckpointError:
    return CheckpointError(f"{path} cannot be read ({type(err).__name__}: {str(err)[:120]}): it is damaged or not a "
                           "groklab checkpoint; move it out of the folder to use the one before it, or start the run "
                           "again")


def save_checkpoint(folder: Path, step: int, state: dict[str, Any], keep_every: int | None = None) -> Path:
    """Write `state` for `step` atomically, then remove older checkpoints, except those at multiples of
    `keep_every` (kept for analyses across training, e.g. `groklab plot RUN --measure embedding`)."""
    make_folder(folder)
    path = folder / f"{PREFIX}{step:09d}.pt"
    buffer = io.BytesIO()
    torch.save({"step": step, **state}, buffer)
    write_atomic(path, buffer.getvalue())
    for older in checkpoints(folder)[:-1]:
        if not (keep_every and _step_of(older) % keep_every == 0):
            with writing(older):
                os.unlink(older)
    return path


def load_latest(folder: Path, device: torch.device) -> dict[str, Any] | None:
    """The newest complete checkpoint, or None if there is none."""
    found = checkpoints(folder)
    return load_checkpoint(found[-1], device) if found else None
