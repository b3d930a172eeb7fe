"""Append-only JSONL history: one record per line, flushed and fsynced after each write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from groklab.common.files import AppendFile, write_atomic
from groklab.history.reader import read_records


class HistoryWriter:
    """Appends records to history.jsonl; each `write` is durable when it returns, then goes to the mirrors."""

    def __init__(self, path: Path, mirrors: list[Any] | None = None) -> None:
        self.path = path
        self.mirrors = list(mirrors or [])
        self._file = AppendFile(path)

    def write(self, record: dict[str, Any]) -> None:
        self._file.append(json.dumps(record, allow_nan=False) + "\n")
        for mirror in self.mirrors:
            mirror.write(record)

    def close(self) -> None:
        self._file.close()
        for mirror in self.mirrors:
            mirror.close()

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def keep_records_through(path: Path, last_step: int) -> int:
    """Rewrite history.jsonl keeping only complete records with step <= last_step (for resume).

    Returns how many records were dropped (records past the checkpoint, which the resumed run
    recomputes identically, and a line cut short by a kill).
    """
    if not path.exists():
        return 0
    records, _ = read_records(path)
    kept = [r for r in records if r["step"] <= last_step]
    write_atomic(path, "".join(json.dumps(r, allow_nan=False) + "\n" for r in kept))
    return len(records) - len(kept)
