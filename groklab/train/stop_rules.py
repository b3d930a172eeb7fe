"""train.stop_when_not_learning: stop a run whose training loss sits at the loss of the best constant prediction."""

from __future__ import annotations

from typing import Any

import numpy as np

from groklab.analysis.plateau import UNINFORMED_TOLERANCE, stuck_since
from groklab.config.schema import RunConfig


class NotLearningWatch:
    """Follows a run's evaluations and says why to stop once the training loss has stayed at `uninformed` for
    train.stop_when_not_learning steps after the warm-up, with training accuracy below memorization."""

    def __init__(self, cfg: RunConfig, uninformed: float, earlier: list[dict[str, Any]]) -> None:
        self.window, self.uninformed = cfg.train.stop_when_not_learning, uninformed
        self.memorized, self.after = cfg.analysis.memorization_threshold, cfg.optim.warmup_steps
        self.trace: list[tuple[int, float, float]] = []
        for record in earlier:  # a resumed run counts the stretch it had already spent there
            self.observe(record)

    def observe(self, record: dict[str, Any]) -> str | None:
        """Take one evaluation record; the reason to stop, or None."""
        loss, acc = record.get("train_loss"), record.get("train_acc")
        self.trace.append((record["step"], np.nan if loss is None else loss, np.nan if acc is None else acc))
        if self.window is None:
            return None
        steps, losses, accs = (np.array(column) for column in zip(*self.trace, strict=True))
        start = stuck_since(steps, losses, accs, self.uninformed, self.memorized, self.after)
        if start is None or steps[-1] - start < self.window:
            return None
        return (f"the training loss has stayed within {UNINFORMED_TOLERANCE:.0%} of {self.uninformed:.4g}, the loss "
                f"of the best constant prediction, from step {start} to {steps[-1]} with training accuracy "
                f"{accs[-1]:.1%}: the model learns nothing from its inputs (train.stop_when_not_learning="
                f"{self.window})")
