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
    return {name: json.loads(text) for name, text in history.json_columns()}


def training_history_json(history: History, run: dict[str, Any]) -> bytes:
    """The export's text: json.dumps of {format, schema_version, run, columns} without indentation, each column's
    numbers as history.jsonl has them (so a long history is written without a Python object per value)."""
    head = json.dumps({"format": EXPORT_FORMAT, "schema_version": SCHEMA_VERSION, "run": run}, allow_nan=False)
    columns = b", ".join(json.dumps(name).encode() + b": " + text for name, text in history.json_columns())
    return head[:-1].encode() + b', "columns": {' + columns + b"}}"


def write_training_history(history: History, path: Path, run: dict[str, Any]) -> None:
    """Write the columnar export with its schema version and run metadata."""
    write_atomic(path, training_history_json(history, run))
