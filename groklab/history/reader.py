"""Reading histories: tolerant of a line cut short by a kill, strict about what it cannot understand."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from groklab.common.run_files import HISTORY_FILE
from groklab.history.schema import SCHEMA_VERSION

MAX_STEP = 2**53  # the largest count a float (and so every plotting and analysis library) holds exactly


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
    """Parse history.jsonl into records, skipping (and reporting) lines that are not complete records and
    values that are not numbers; never raises for damage inside the file."""
    if not path.is_file():
        raise HistoryError(
            f"no history at {path}: the run has not written an evaluation yet, or this is not a run folder"
        )
    lines = path.read_bytes().split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    records, problems = [], []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        record, problem = _parse_line(raw, last=number == len(lines))
        if problem:
            problems.append(f"{path.name} line {number} {problem}")
        if record is None:
            continue
        version = record.get("schema_version", SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{path} uses history schema version {version}, newer than this groklab understands "
                f"({SCHEMA_VERSION}); upgrade groklab to read it"
            )
        records.append(record)
    return records, problems


def _parse_line(raw: bytes, last: bool) -> tuple[dict[str, Any] | None, str]:
    """One line as a record (None when it cannot be one) and what was wrong with it ('' when nothing)."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "is not UTF-8 text (bytes of another file?); skipped"
    except json.JSONDecodeError:
        what = "is cut short (the run was probably killed while writing)" if last else "is not valid JSON"
        return None, f"{what}; skipped"
    if not isinstance(record, dict) or "step" not in record:
        return None, "is not a record with a 'step'; skipped"
    step = record["step"]
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step) or step != int(step) \
            or step < 0:
        return None, f"has step {json.dumps(step)[:40]}, not a whole number of steps; skipped"
    if step > MAX_STEP:
        return None, f"has step {json.dumps(step)[:40]}, beyond the {MAX_STEP} steps a history can count; skipped"
    version = record.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, bool) or not isinstance(version, int):
        return None, f"has schema_version {json.dumps(version)[:40]}, not a whole number; skipped"
    cleaned, bad = {}, []
    for key, value in record.items():
        if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                             and math.isfinite(value)):
            cleaned[key] = value
        elif isinstance(value, float):  # NaN or infinity, which groklab itself writes as null
            cleaned[key] = None
            bad.append(f"{key} {value}")
        else:
            bad.append(f"{key} {json.dumps(value)[:40]}")
    cleaned["step"] = int(step)
    return cleaned, f"has {', '.join(bad)}, not a finite number: read as missing" if bad else ""


ACCURACY_RANGE = (0.0, 1.0)


def _is_accuracy(name: str) -> bool:
    return name.endswith("_acc") or name.startswith("acc_")


def check_records(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Records in step order with one record per step (the last written wins), accuracies as fractions, and a
    statement for each thing that had to be set right: duplicated or unordered steps, accuracies in percent,
    values outside their range."""
    problems = []
    steps = [r["step"] for r in records]
    if list(dict.fromkeys(steps)) != sorted(set(steps)):
        problems.append("history has steps out of order (records were appended out of sequence): sorted by step")
    by_step = {r["step"]: r for r in records}
    if len(by_step) < len(records):
        repeated = sorted({s for s in steps if steps.count(s) > 1})
        problems.append(f"history has {len(records) - len(by_step)} duplicated steps ({_few(repeated)}): kept the "
                        "last record of each")
    records = [by_step[s] for s in sorted(by_step)]
    low, high = ACCURACY_RANGE
    for name in sorted({k for r in records for k in r if _is_accuracy(k)}):
        values = [r[name] for r in records if r.get(name) is not None]
        if not values or low <= min(values) and max(values) <= high:
            continue
        if min(values) >= 0 and max(values) <= 100 and sum(v > 1 for v in values) >= len(values) / 2:
            records = [{**r, name: r[name] / 100} if r.get(name) is not None else r for r in records]
            problems.append(f"{name} is in percent (largest {max(values):g}): divided by 100")
            continue
        outside = [r["step"] for r in records if r.get(name) is not None and not low <= r[name] <= high]
        records = [{**r, name: None} if r.get(name) is not None and not low <= r[name] <= high else r
                   for r in records]
        problems.append(f"{name} is outside [0, 1] at {len(outside)} steps ({_few(outside)}), impossible for an "
                        "accuracy: read as missing")
    return records, problems


def _few(steps: list[int]) -> str:
    shown = ", ".join(str(s) for s in steps[:3])
    return f"steps {shown}{', ...' if len(steps) > 3 else ''}"


def load_history(path: Path) -> History:
    """Load a run's history from a run folder or a history.jsonl path."""
    file = path / HISTORY_FILE if path.is_dir() else path
    records, problems = read_records(file)
    if not records:
        raise HistoryError(f"{file} holds no evaluation records yet")
    records, checked = check_records(records)
    return History(records, problems + checked)
