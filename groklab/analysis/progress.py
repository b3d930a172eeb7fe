"""Nanda et al. 2023's three phases (memorization, circuit formation, cleanup) from progress-measure series.

Rules (docs/analysis.md), on series sampled at the evaluation steps:
- memorization: from step 0 to the memorization step (training accuracy reaches its threshold);
- cleanup: the test loss's fall, from the first step after memorization where log test loss is below the
  post-memorization peak minus a tenth of the way to its final value
  (`cleanup_start`), to the first step where it is within a tenth of that range of its final value
  (`cleanup_end`);
- circuit formation: between the two.
A series "falls" at the first step (after its peak) where its log value passes the midpoint between its peak
and its final value; "restricted loss falls before test loss" compares those steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

START_SHARE, END_SHARE = 0.1, 0.9  # share of the log test-loss drop at which cleanup starts and ends


def _log(values: np.ndarray) -> np.ndarray:
    return np.log(np.clip(values, 1e-30, None))


def fall_step(steps: np.ndarray, values: np.ndarray, share: float = 0.5, after: int = 0) -> int | None:
    """First step >= `after` at which log(values) has covered `share` of the way from its peak (from `after`
    on) to its final value; None when it does not fall."""
    measured = np.isfinite(values) & (steps >= after)
    if measured.sum() < 2:
        return None
    s, v = steps[measured], _log(values[measured])
    peak = int(np.argmax(v))
    drop = v[peak] - v[-1]
    if drop <= 0:
        return None
    below = np.nonzero(v[peak:] <= v[peak] - share * drop)[0]
    return int(s[peak + below[0]]) if len(below) else None


def progress_phases(
    steps: np.ndarray, memorization_step: int | None, test_loss: np.ndarray, restricted_loss: np.ndarray,
    excluded_loss: np.ndarray, weight_sq: np.ndarray,
) -> dict[str, Any]:
    """The three phases' step ranges and the paper's three observations as measured facts."""
    after = memorization_step or 0
    cleanup_start = fall_step(steps, test_loss, START_SHARE, after)
    cleanup_end = fall_step(steps, test_loss, END_SHARE, after)
    phases = {
        "memorization_phase": [0, memorization_step] if memorization_step else None,
        "circuit_formation_phase": [memorization_step, cleanup_start] if memorization_step and cleanup_start else None,
        "cleanup_phase": [cleanup_start, cleanup_end] if cleanup_start and cleanup_end else None,
    }
    restricted_fall, test_fall = fall_step(steps, restricted_loss), fall_step(steps, test_loss)

    def at(series: np.ndarray, step: int | None) -> float | None:
        if step is None:
            return None
        measured = np.isfinite(series) & (steps <= step)
        return float(series[measured][-1]) if measured.any() else None

    excluded_then = [at(excluded_loss, memorization_step), at(excluded_loss, cleanup_start)]
    weight_then = [at(weight_sq, cleanup_start), at(weight_sq, cleanup_end)]
    return {
        **phases,
        "restricted_fall_step": restricted_fall,
        "test_fall_step": test_fall,
        "restricted_falls_first": (restricted_fall < test_fall) if restricted_fall and test_fall else None,
        "excluded_rises_in_formation": (excluded_then[1] > excluded_then[0]) if None not in excluded_then else None,
        "weight_falls_in_cleanup": (weight_then[1] < weight_then[0]) if None not in weight_then else None,
    }
