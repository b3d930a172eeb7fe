"""Reading histories: tolerant of a line cut short by a kill, strict about what it cannot understand."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from groklab.common.run_folder import HISTORY_FILE
from groklab.history.columns import Part, Series, blocks, fast_block, slow_lines
from groklab.history.schema import SCHEMA_VERSION

MAX_STEP = 2**53  # the largest count a float (and so every plotting and analysis library) holds exactly


class HistoryError(ValueError):
    """A history that cannot be read at all (missing, empty, or from an unknown schema)."""


class History:
    """Evaluation records in step order, with columnar access. `problems` lists what was skipped or set right.

    Made from a list of records, or (by load_history) from columns: each series then held once, as the text its
    numbers were written in until it is first asked for and as floats after, and `records` gives a record's dict
    only when that record is asked for; so a history of 10^6 records costs about its file's size, not 10^6
    dicts."""

    def __init__(self, records: list[dict[str, Any]] | None = None, problems: list[str] | None = None) -> None:
        self._records = [] if records is None else records
        self.problems = [] if problems is None else problems
        self._steps: np.ndarray | None = None
        self._series: dict[str, Series] | None = None  # every field in the order records first have it

    @classmethod
    def from_columns(cls, steps: np.ndarray, series: dict[str, Series], problems: list[str]) -> History:
        """A history of len(steps) records whose fields are `series` (with "step" among them, in its place)."""
        history = cls(None, problems)
        history._steps, history._series = steps, series
        return history

    @property
    def records(self) -> Sequence[dict[str, Any]]:
        return self._records if self._series is None else _RecordView(self)

    def __len__(self) -> int:
        return len(self._records) if self._steps is None else len(self._steps)

    @property
    def steps(self) -> np.ndarray:
        if self._steps is not None:
            return self._steps.copy()
        return np.array([r["step"] for r in self._records], dtype=np.int64)

    def column(self, name: str) -> np.ndarray:
        """Values of one series as floats; missing or non-finite values are NaN."""
        if self._series is not None:
            if name == "step":
                return self._steps.astype(np.float64)
            series = self._series.get(name)
            return np.full(len(self), np.nan) if series is None else series.values(len(self)).copy()
        values = [r.get(name) for r in self._records]
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    def has(self, name: str) -> bool:
        if self._series is not None:
            return name in self._series and (name == "step" or not self._series[name].all_null())
        return any(r.get(name) is not None for r in self._records)

    @property
    def series_names(self) -> list[str]:
        if self._series is not None:
            return [name for name in self._series if name != "schema_version"]
        names: dict[str, None] = {}
        for record in self._records:
            names.update(dict.fromkeys(k for k, v in record.items() if isinstance(v, (int, float)) or v is None))
        names.pop("schema_version", None)
        return list(names)

    def take(self, rows: np.ndarray) -> History:
        """The records at `rows` (indices in step order) as a history of their own: for drawing a long history
        from a thinned series, converting only those rows' numbers."""
        rows = np.asarray(rows, dtype=np.int64)
        if self._series is None:
            return History([self._records[i] for i in rows.tolist()], list(self.problems))
        taken = {name: s.take(rows, len(self)) for name, s in self._series.items() if name != "step"}
        return History.from_columns(self._steps[rows], _with_steps(self._series, taken), list(self.problems))

    def record(self, index: int) -> dict[str, Any]:
        """Record `index` (negative from the end) as the reader read it."""
        if self._series is None:
            return self._records[index]
        row = range(len(self))[index]
        record: dict[str, Any] = {}
        for name, series in self._series.items():
            if name == "step":
                record[name] = int(self._steps[row])
                continue
            present, value = series.at(row)
            if present:
                record[name] = value
        return record

    def json_columns(self) -> Iterator[tuple[str, bytes]]:
        """(name, the series as a JSON list with null where missing) for every series, in series_names order."""
        if self._series is None:
            for name in self.series_names:
                yield name, json.dumps([r.get(name) for r in self._records], allow_nan=False).encode()
            return
        for name in self.series_names:
            if name == "step":
                yield name, ("[" + ", ".join(map(str, self._steps.tolist())) + "]").encode()
            else:
                yield name, self._series[name].json_list(len(self))


class _RecordView(Sequence):
    """A columnar history's records, each made when it is asked for."""

    def __init__(self, history: History) -> None:
        self._history = history

    def __len__(self) -> int:
        return len(self._history)

    def __getitem__(self, index):  # noqa: ANN001, ANN204
        if isinstance(index, slice):
            return [self._history.record(i) for i in range(len(self))[index]]
        return self._history.record(index)


def _with_steps(original: dict[str, Series], taken: dict[str, Series]) -> dict[str, Series]:
    """`taken` with the step entry back in its place among the series."""
    return {name: (original[name] if name == "step" else taken[name]) for name in original}


def read_records(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse history.jsonl into records, skipping (and reporting) lines that are not complete records and
    values that are not numbers; never raises for damage inside the file."""
    _require(path)
    records, problems = [], []
    for number, raw, last in slow_lines(path.read_bytes(), 1, True):
        record = _read_line(path, number, raw, last, problems)
        if record is not None:
            records.append(record)
    return records, problems


def _require(path: Path) -> None:
    if not path.is_file():
        raise HistoryError(
            f"no history at {path}: the run has not written an evaluation yet, or this is not a run folder"
        )


def _read_line(path: Path, number: int, raw: bytes, last: bool, problems: list[str]) -> dict[str, Any] | None:
    """Line `number` as a record, or None; what was wrong with it is added to `problems`."""
    record, problem = _parse_line(raw, last)
    if problem:
        problems.append(f"{path.name} line {number} {problem}")
    if record is not None:
        version = record.get("schema_version", SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{path} uses history schema version {version}, newer than this groklab understands "
                f"({SCHEMA_VERSION}); upgrade groklab to read it"
            )
    return record


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


def read_columns(path: Path) -> tuple[np.ndarray, dict[str, Series], list[str]]:
    """history.jsonl as (steps, {field: series} in the order the records first have each field, with "step" in
    its place, problems): the lines read_records reads, and the same problems, read block by block (each block in
    the writer's own form at numpy's speed, any other block line by line); never raises for damage inside the
    file."""
    _require(path)
    series: dict[str, Series] = {}
    steps, problems, row, number = [], [], 0, 1  # number: the block's first line
    with open(path, "rb") as handle:
        for text, last in blocks(handle):
            block = fast_block(text, SCHEMA_VERSION)
            if block is None:
                records = [r for line, raw, is_last in slow_lines(text, number, last)
                           if (r := _read_line(path, line, raw, is_last, problems)) is not None]
                steps.append(np.array([r["step"] for r in records], dtype=np.int64))
                _add_records(series, records, row)
                row += len(records)
                number += text.count(b"\n")
                continue
            number += block.lines
            for name in block.keys:
                target = series.setdefault(name, Series())
                if name != "step":
                    rows, tokens, whole = block.series[name]
                    target.parts.append(Part(row, len(tokens), None if rows is None else rows + row, tokens))
                    target.whole &= whole
            steps.append(block.steps)
            row += block.lines
    return np.concatenate(steps) if steps else np.zeros(0, np.int64), series, problems


def _add_records(series: dict[str, Series], records: list[dict[str, Any]], row: int) -> None:
    """Records read line by line, appended to `series` as floats from row `row` on."""
    names = dict.fromkeys(k for r in records for k in r)
    for name in names:
        target = series.setdefault(name, Series())
        if name == "step":
            continue
        present = [i for i, r in enumerate(records) if name in r]
        values = [records[i][name] for i in present]
        target.whole &= all(isinstance(v, int) for v in values if v is not None)
        rows = None if len(present) == len(records) else np.array(present, dtype=np.int64) + row
        floats = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        target.parts.append(Part(row, len(values), rows, values=floats))


def check_columns(steps: np.ndarray, series: dict[str, Series]) -> tuple[np.ndarray, dict[str, Series], list[str]]:
    """The series in step order with one record per step (the last written wins), accuracies as fractions, and a
    statement for each thing that had to be set right: duplicated or unordered steps, accuracies in percent,
    values outside their range."""
    problems, n = [], len(steps)
    if n > 1 and not np.all(np.diff(steps) > 0):
        unique, first, counts = np.unique(steps, return_index=True, return_counts=True)
        if np.any(np.diff(first) < 0):
            problems.append("history has steps out of order (records were appended out of sequence): sorted by step")
        if len(unique) < n:
            problems.append(f"history has {n - len(unique)} duplicated steps ({_few(unique[counts > 1].tolist())}): "
                            "kept the last record of each")
        keep = n - 1 - np.unique(steps[::-1], return_index=True)[1]  # each step's last record, in step order
        series = {name: s if name == "step" else _rows_of(s, keep, n) for name, s in series.items()}
        steps, n = steps[keep], len(keep)
        present = {name: None if name == "step" else s.present(n) for name, s in series.items()}
        first = {name: 0 if where is None else int(np.argmax(where)) for name, where in present.items()
                 if where is None or where.any()}  # a field that only dropped records had is gone
        series = {name: series[name] for name in sorted(first, key=first.__getitem__)}  # stable: ties keep order
    low, high = ACCURACY_RANGE
    for name in sorted(k for k in series if _is_accuracy(k)):
        values = series[name].values(n)
        given = ~np.isnan(values)
        if not given.any() or low <= values[given].min() and values[given].max() <= high:
            continue
        present = series[name].present(n)
        largest = values[given].max()
        if values[given].min() >= 0 and largest <= 100 and np.count_nonzero(values[given] > 1) >= given.sum() / 2:
            series[name] = Series.of(values / 100, present, whole=False)
            problems.append(f"{name} is in percent (largest {largest:g}): divided by 100")
            continue
        outside = given & ~((values >= low) & (values <= high))
        series[name] = Series.of(np.where(outside, np.nan, values), present, series[name].whole)
        problems.append(f"{name} is outside [0, 1] at {outside.sum()} steps ({_few(steps[outside].tolist())}), "
                        "impossible for an accuracy: read as missing")
    return steps, series, problems


def _rows_of(series: Series, rows: np.ndarray, n: int) -> Series:
    present = series.present(n)
    return Series.of(series.values(n)[rows], None if present is None else present[rows], series.whole)


def _few(steps: list[int]) -> str:
    shown = ", ".join(str(s) for s in steps[:3])
    return f"steps {shown}{', ...' if len(steps) > 3 else ''}"


def load_history(path: Path) -> History:
    """Load a run's history from a run folder or a history.jsonl path."""
    file = path / HISTORY_FILE if path.is_dir() else path
    steps, series, problems = read_columns(file)
    if not len(steps):
        raise HistoryError(f"{file} holds no evaluation records yet")
    steps, series, checked = check_columns(steps, series)
    return History.from_columns(steps, series, problems + checked)
