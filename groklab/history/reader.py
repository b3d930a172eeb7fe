"""Reading histories: tolerant of a line cut short by a kill, strict about what it cannot understand."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from groklab.common.run_files import HISTORY_FILE
from groklab.history.schema import SCHEMA_VERSION


class HistoryError(ValueError):
    """A history that cannot be read at all (missing, empty, or from an unknown schema)."""


@dataclass
class History:
    """Evaluation records in step order, with columnar access. `problems` lists what was skipped."""

    records: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def steps(self) -> np.ndarray:
        return np.array([r["step"] for r in self.records], dtype=np.int64)

    def column(self, name: str) -> np.ndarray:
        """Values of one series as floats; missing or non-finite values are NaN."""
        values = [r.get(name) for r in self.records]
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    def has(self, name: str) -> bool:
        return any(r.get(name) is not None for r in self.records)

    @property
    def series_names(self) -> list[str]:
        names: dict[str, None] = {}
        for record in self.records:
            names.update(dict.fromkeys(k for k, v in record.items() if isinstance(v, (int, float)) or v is None))
        names.pop("schema_version", None)
        return list(names)


def read_records(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse history.jsonl into records, skipping (and reporting) lines that are not complete records."""
    if not path.is_file():
        raise HistoryError(
            f"no history at {path}: the run has not written an evaluation yet, or this is not a run folder"
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    records, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            last = number == len(lines)
            what = "cut short (the run was probably killed while writing)" if last else "not valid JSON"
            problems.append(f"{path.name} line {number} is {what}; skipped")
            continue
        if not isinstance(record, dict) or "step" not in record:
            problems.append(f"{path.name} line {number} has no 'step'; skipped")
            continue
        version = record.get("schema_version", SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{path} uses history schema version {version}, newer than this groklab understands "
                f"({SCHEMA_VERSION}); upgrade groklab to read it"
            )
        records.append(record)
    return records, problems


def load_history(path: Path) -> History:
    """Load a run's history from a run folder or a history.jsonl path."""
    file = path / HISTORY_FILE if path.is_dir() else path
    records, problems = read_records(file)
    if not records:
        raise HistoryError(f"{file} holds no evaluation records yet")
    records.sort(key=lambda r: r["step"])
    return History(records, problems)
