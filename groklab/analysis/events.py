"""Events on a history: when training and test accuracy first reach their thresholds."""

from __future__ import annotations

import numpy as np


def first_step_at(steps: np.ndarray, values: np.ndarray, threshold: float) -> int | None:
    """The first step whose value is at or above `threshold`, or None (NaN never counts)."""
    reached = np.flatnonzero(np.nan_to_num(values, nan=-np.inf) >= threshold)
    return int(steps[reached[0]]) if reached.size else None


def memorization_step(steps: np.ndarray, train_acc: np.ndarray, threshold: float) -> int | None:
    """First step at which training accuracy reaches `threshold`."""
    return first_step_at(steps, train_acc, threshold)


def generalization_step(steps: np.ndarray, test_acc: np.ndarray, threshold: float) -> int | None:
    """First step at which test accuracy reaches `threshold`."""
    return first_step_at(steps, test_acc, threshold)


def grokking_delay(memorization: int | None, generalization: int | None) -> int | None:
    """Steps from memorization to generalization (negative if test came first)."""
    if memorization is None or generalization is None:
        return None
    return generalization - memorization


def delay_ratio(memorization: int | None, generalization: int | None) -> float | None:
    """generalization_step / memorization_step (steps counted from 1 so step 0 is defined)."""
    if memorization is None or generalization is None:
        return None
    return generalization / max(memorization, 1)
