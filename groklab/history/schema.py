"""The history record: one JSON object per evaluation. Field names are the project's one vocabulary."""

from __future__ import annotations

import math
from typing import Any

SCHEMA_VERSION = 1

# Always present in a record written by groklab's trainer (accuracies are fractions in [0, 1]).
CORE_FIELDS = ("step", "train_loss", "train_acc", "test_loss", "test_acc")
# Also written by the trainer; optional for imported histories.
STANDARD_FIELDS = CORE_FIELDS + ("epoch", "param_norm", "lr", "elapsed_s")


def clean_value(value: Any) -> Any:
    """JSON-safe value: non-finite floats become None (read back as NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def make_record(step: int, **values: Any) -> dict[str, Any]:
    """A history record with the schema version and JSON-safe values."""
    return {"schema_version": SCHEMA_VERSION, "step": int(step), **{k: clean_value(v) for k, v in values.items()}}
