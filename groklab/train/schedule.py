"""Which steps get evaluated: 0, log-spaced steps (dense early), every N steps, and the last."""

from __future__ import annotations

import numpy as np

from groklab.config.schema import EvalCfg


def eval_steps(total_steps: int, cfg: EvalCfg) -> list[int]:
    """Sorted unique evaluation steps in [0, total_steps]."""
    steps = {0, total_steps, *range(0, total_steps + 1, cfg.every)}
    if cfg.log_points:
        steps.update(int(s) for s in np.unique(np.geomspace(1, total_steps, cfg.log_points).round()))
    return sorted(steps)
