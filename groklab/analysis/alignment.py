"""A measure's trajectory against the run's own grokking transition: normalized time is 0 at the memorization
step and 1 at the generalization step (as the outcome rule defines them), so runs of different papers and lengths
can be laid over each other, and each measure can be said to move before, with or after test accuracy."""

from __future__ import annotations

import numpy as np

WINDOW = (-1.0, 2.0)  # normalized times compared: one transition's length before memorization to one after
TOLERANCE = 0.15  # half-change times closer than this to test accuracy's count as moving with it
FLAT = 0.05  # a change smaller than this share of the measure's own scale over the window counts as no change


def normalized_time(steps: np.ndarray, memorization: int, generalization: int) -> np.ndarray:
    """(step - memorization) / (generalization - memorization); the run must have generalized after memorizing."""
    if generalization <= memorization:
        raise ValueError(f"normalized time needs generalization after memorization, got steps {memorization} and "
                         f"{generalization}")
    return (np.asarray(steps, dtype=float) - memorization) / (generalization - memorization)


def half_change_time(times: np.ndarray, values: np.ndarray, window: tuple[float, float] = WINDOW) -> float | None:
    """The first normalized time in `window` at which the measure has covered half of its change across the
    window (from its first to its last value there); None when it changes by less than FLAT of its scale or has
    fewer than three values in the window."""
    inside = (times >= window[0]) & (times <= window[1]) & np.isfinite(values)
    t, v = times[inside], values[inside]
    if len(v) < 3:
        return None
    change = v[-1] - v[0]
    scale = max(np.abs(v).max(), np.abs(v).max() - np.abs(v).min(), 1e-12)
    if abs(change) < FLAT * scale:
        return None
    crossed = np.flatnonzero((v - v[0]) * np.sign(change) >= abs(change) / 2)
    return float(t[crossed[0]])


def order(measure_time: float | None, accuracy_time: float | None, tolerance: float = TOLERANCE) -> str:
    """'before', 'with' or 'after' test accuracy's half-change time; 'flat' when the measure does not change,
    'unknown' when test accuracy's time is not known."""
    if accuracy_time is None:
        return "unknown"
    if measure_time is None:
        return "flat"
    if measure_time < accuracy_time - tolerance:
        return "before"
    return "after" if measure_time > accuracy_time + tolerance else "with"


def align(steps: np.ndarray, columns: dict[str, np.ndarray], test_acc: np.ndarray, memorization: int,
          generalization: int) -> dict[str, dict[str, float | str | None]]:
    """For each measure: its half-change time in normalized time and whether it moves before, with or after
    test accuracy (whose own half-change time is under 'test_acc')."""
    times = normalized_time(steps, memorization, generalization)
    accuracy_time = half_change_time(times, np.asarray(test_acc, dtype=float))
    aligned: dict[str, dict[str, float | str | None]] = {"test_acc": {"time": accuracy_time, "order": "with"}}
    for name, values in columns.items():
        measure_time = half_change_time(times, np.asarray(values, dtype=float))
        aligned[name] = {"time": measure_time, "order": order(measure_time, accuracy_time)}
    return aligned
