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


def transitions(
    steps: np.ndarray, test_acc: np.ndarray, min_rise: float = 0.2, tolerance: float = 0.02
) -> list[dict]:
    """Every sharp rise of test accuracy: maximal rising stretches (dips below `tolerance` allowed)
    whose total rise is at least `min_rise`. Each is {start_step, end_step, from_acc, to_acc, mid_step},
    mid_step being the first step at or above halfway."""
    acc = np.nan_to_num(test_acc, nan=0.0)
    found, start = [], 0
    while start < len(acc):
        i = _stretch_end(acc, start, tolerance)
        peak = start + int(np.argmax(acc[start:i]))
        rising = acc[start : peak + 1]
        low = start + int(np.flatnonzero(rising <= rising.min() + tolerance)[-1])  # last point before the rise
        if acc[peak] - acc[low] >= min_rise:
            half = (acc[low] + acc[peak]) / 2
            mid = low + int(np.argmax(acc[low : peak + 1] >= half))
            found.append({"start_step": int(steps[low]), "end_step": int(steps[peak]), "from_acc": float(acc[low]),
                          "to_acc": float(acc[peak]), "mid_step": int(steps[mid])})
        start = i
    return found


def _stretch_end(acc: np.ndarray, start: int, tolerance: float) -> int:
    """The first i > start whose value is more than `tolerance` below the largest of acc[start:i] (len(acc) if
    none): found in windows that double, so a history is scanned in time linear in its length."""
    width = 64
    while True:
        window = acc[start : start + width]
        dips = np.flatnonzero(window[1:] < np.maximum.accumulate(window)[:-1] - tolerance)
        if dips.size:
            return start + 1 + int(dips[0])
        if start + width >= len(acc):
            return len(acc)
        width *= 2


def steepest_descent_step(steps: np.ndarray, loss: np.ndarray) -> int | None:
    """Step where log(loss) falls fastest per log(step), or None with too few points."""
    keep = (steps > 0) & np.isfinite(loss) & (loss > 0)
    s, values = steps[keep].astype(float), np.log(loss[keep])
    if len(s) < 3:
        return None
    slopes = np.diff(values) / np.diff(np.log(s))
    i = int(np.argmin(slopes))
    return int(round(np.sqrt(s[i] * s[i + 1]))) if slopes[i] < 0 else None
