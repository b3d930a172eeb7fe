"""Slingshot cycles (Thilak et al. 2022): the last layer's norm grows, the training loss spikes, the norm
plateaus. Pure functions over a history that records `last_layer_norm` (eval.probes=[last_layer_norm]).

The rule (docs/analysis.md): after a baseline (the lowest training loss since the previous cycle) the
training loss rises to at least `spike_factor` x the baseline; the cycle ends when the loss is back
below the geometric mean of baseline and peak. It counts as a slingshot when the norm grew from the
baseline to the spike; `plateau` says whether the norm then grew at most half as fast as before.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from groklab.history.reader import History

SPIKE_FACTOR = 100.0


@dataclass(frozen=True)
class Slingshot:
    baseline_step: int  # lowest training loss before the spike
    spike_step: int  # first evaluation at >= spike_factor x the baseline loss
    peak_step: int
    end_step: int  # loss back below sqrt(baseline * peak), or the last evaluation
    baseline_loss: float
    peak_loss: float
    norm_growth: float  # relative growth of the last-layer norm from baseline to spike
    plateau: bool  # the norm grew at most half as fast after the peak as before the spike
    test_jump: bool  # a test-accuracy transition overlaps the cycle (from baseline to end)

    def to_dict(self) -> dict:
        return asdict(self)


def _rate(steps: np.ndarray, norms: np.ndarray, a: int, b: int) -> float:
    return (norms[b] - norms[a]) / max(steps[b] - steps[a], 1)


def find_slingshots(
    history: History, transitions: list[dict], spike_factor: float = SPIKE_FACTOR
) -> list[Slingshot]:
    """Every slingshot cycle in the history, in step order (see the module docstring for the rule)."""
    # Python lists: this scan is a loop over the evaluations, and indexing a list costs far less than an array
    steps, loss = history.steps.tolist(), history.column("train_loss").tolist()
    norms = history.column("last_layer_norm").tolist()
    found: list[Slingshot] = []
    i, n = 0, len(steps)
    while i < n:
        base = i
        j = i + 1
        while j < n and not (loss[j] >= spike_factor * loss[base]):
            if loss[j] < loss[base]:
                base = j
            j += 1
        if j >= n:
            break
        peak = j
        middle = math.sqrt(max(loss[base], 0.0) * loss[j])  # a loss below 0 (a damaged record) counts as 0
        end = j
        while end + 1 < n and loss[end] > middle:
            end += 1
            if loss[end] > loss[peak]:
                peak = end
        following = min(end + (end - base), n - 1)  # the plateau is judged over as long as the climb took
        growth = (norms[j] - norms[base]) / norms[base] if norms[base] > 0 else float("nan")
        if growth > 0:
            before = _rate(steps, norms, base, j)
            after = _rate(steps, norms, peak, following) if following > peak else 0.0
            overlaps = any(t["start_step"] <= steps[end] and t["end_step"] >= steps[base] for t in transitions)
            found.append(Slingshot(
                int(steps[base]), int(steps[j]), int(steps[peak]), int(steps[end]), float(loss[base]),
                float(loss[peak]), float(growth), bool(after <= 0.5 * before), overlaps,
            ))
        i = end + 1 if end > j else j + 1
    return found
