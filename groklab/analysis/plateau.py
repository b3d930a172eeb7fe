"""A run that learns nothing: its training loss stays at the loss of the best constant prediction (ln C for a
balanced classifier, the targets' variance for MSE), the failure of the seeds' dead runs."""

from __future__ import annotations

import numpy as np

UNINFORMED_TOLERANCE = 0.01  # relative distance from the uninformed loss that counts as "at" it


def stuck_since(steps: np.ndarray, train_loss: np.ndarray, train_acc: np.ndarray, uninformed: float,
                memorized: float, after: int = 0) -> int | None:
    """The first step of the stretch of records, reaching the last one, over which the training loss stayed within
    UNINFORMED_TOLERANCE of `uninformed` and training accuracy below `memorized` (a memorizing run is never
    stuck), counting only records from step `after` (the warm-up); None when the last record is not stuck."""
    stuck = (np.abs(train_loss - uninformed) <= UNINFORMED_TOLERANCE * abs(uninformed)) & (train_acc < memorized)
    stuck &= steps >= after
    if not len(stuck) or not stuck[-1]:
        return None
    moving = np.flatnonzero(~stuck)
    return int(steps[moving[-1] + 1]) if len(moving) else int(steps[0])


def longest_stuck_stretch(steps: np.ndarray, train_loss: np.ndarray, train_acc: np.ndarray, uninformed: float,
                          memorized: float, after: int = 0) -> int:
    """The longest stretch (in steps) over which a history was stuck at the uninformed loss, anywhere in it."""
    longest = 0
    for end in range(len(steps)):
        start = stuck_since(steps[: end + 1], train_loss[: end + 1], train_acc[: end + 1], uninformed, memorized,
                            after)
        if start is not None:
            longest = max(longest, int(steps[end]) - start)
    return longest
