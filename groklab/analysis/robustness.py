"""Humayun, Balestriero, Baraniuk 2024's progress measures, as pure functions over history columns:
the rise and fall of local complexity near the data, and 'delayed robustness' (adversarial accuracy that
keeps rising after clean test accuracy has settled). Rules in docs/analysis.md.
"""

from __future__ import annotations

import numpy as np

from groklab.analysis.events import transitions

SETTLED_TOLERANCE = 0.02  # clean test accuracy within this of its final value counts as settled
MIN_ROBUSTNESS_RISE = 0.2  # a rise of adversarial accuracy counted as a transition (as for test accuracy)


def settled_step(steps: np.ndarray, values: np.ndarray, tolerance: float = SETTLED_TOLERANCE) -> int | None:
    """First step from which `values` stay within `tolerance` of their final value; None if empty."""
    finite = np.nan_to_num(values, nan=-np.inf)
    if len(finite) == 0:
        return None
    outside = np.flatnonzero(np.abs(finite - finite[-1]) > tolerance)
    return int(steps[outside[-1] + 1]) if len(outside) else int(steps[0])


def complexity_phases(steps: np.ndarray, lc: np.ndarray) -> dict[str, float | int | None]:
    """The ascent and descent of a local-complexity series.

    `rise` is the relative growth from the lowest value before the peak to the peak, `fall` the relative
    drop from the peak to the final value; the peak is the largest value after the first evaluation's
    descent (the highest point that follows a minimum), or the first value when the series only falls.
    """
    values = np.nan_to_num(lc, nan=0.0)
    running_min = np.minimum.accumulate(values)
    gain = values / np.maximum(running_min, 1e-12) - 1
    peak = int(np.argmax(gain)) if gain.max() > 0 else 0
    trough = int(np.argmin(values[: peak + 1]))
    return {
        "initial": float(values[0]),
        "trough_step": int(steps[trough]),
        "peak_step": int(steps[peak]),
        "peak": float(values[peak]),
        "final": float(values[-1]),
        "rise": float(values[peak] / max(values[trough], 1e-12) - 1),
        "fall": float(1 - values[-1] / max(values[peak], 1e-12)),
    }


def delayed_robustness(steps: np.ndarray, test_acc: np.ndarray, adversarial_acc: np.ndarray) -> dict:
    """Rises of adversarial accuracy (the `transitions` rule) and whether one is late: its midpoint comes
    after clean test accuracy has settled. `delay_ratio` = that midpoint / the settled step."""
    settled = settled_step(steps, test_acc)
    rises = transitions(steps, adversarial_acc, min_rise=MIN_ROBUSTNESS_RISE)
    late = [t for t in rises if settled is not None and t["mid_step"] > settled]
    return {
        "clean_settled_step": settled,
        "adversarial_transitions": rises,
        "late_transition": late[0] if late else None,
        "delay_ratio": late[0]["mid_step"] / max(settled, 1) if late else None,
    }
