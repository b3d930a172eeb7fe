"""Columnar export: training_history.json (documented in docs/history.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from groklab.common.files import write_atomic
from groklab.history.reader import History
from groklab.history.schema import SCHEMA_VERSION

EXPORT_FORMAT = "groklab.training_history"


def to_columns(history: History) -> dict[str, list[Any]]:
    """One list per series, aligned with `step`; missing values are None."""
    return {name: [r.get(name) for r in history.records] for name in history.series_names}


def write_training_history(history: History, path: Path, run: dict[str, Any]) -> None:
    """Write the columnar export with its schema version and run metadata."""
    payload = {"format": EXPORT_FORMAT, "schema_version": SCHEMA_VERSION, "run": run, "columns": to_columns(history)}
    write_atomic(path, json.dumps(payload, indent=1, allow_nan=False))
