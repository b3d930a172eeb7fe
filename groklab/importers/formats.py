"""One reader per foreign log format; each returns an `Imported` with groklab's field names."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from groklab.importers.base import TARGETS, Imported, LogFormatError, resolve_columns
from groklab.registry import Registry

Reader = Callable[[Path, dict[str, str]], Imported]
IMPORTERS: Registry[Reader] = Registry("import format")


def _number(text: Any) -> float | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _from_rows(rows: list[dict[str, Any]], mapping: dict[str, str], where: str) -> Imported:
    """Sparse rows (each may hold only some columns, as Lightning writes them) merged by step."""
    found = list(dict.fromkeys(k for row in rows for k in row))
    columns = resolve_columns(found, mapping, where)
    series: dict[str, dict[int, float]] = {t: {} for t in TARGETS[1:]}
    for row in rows:
        step = _number(row.get(columns["step"]))
        if step is None:
            continue
        for target in TARGETS[1:]:
            value = _number(row.get(columns[target]))
            if value is not None:
                series[target][int(step)] = value
    return Imported(series, mapping=columns)


def _read_csv(path: Path) -> list[dict[str, Any]]:
    """The rows of a CSV file with a header line; cells beyond the header's columns are left out."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames
        rows = [{key: value for key, value in row.items() if key is not None} for row in reader]
    if not header or not any(name.strip() for name in header):
        raise LogFormatError(f"{path} has no header line naming its columns (is it empty or cut short?)")
    return rows


@IMPORTERS.register("lightning")
def read_lightning(path: Path, mapping: dict[str, str]) -> Imported:
    """PyTorch Lightning CSVLogger output: a metrics.csv file or a version_N folder holding one."""
    file = path / "metrics.csv" if path.is_dir() else path
    if not file.is_file():
        raise LogFormatError(f"no metrics.csv at {path} (expected a Lightning CSVLogger version folder)")
    imported = _from_rows(_read_csv(file), mapping, str(file))
    hparams = file.parent / "hparams.yaml"
    if hparams.is_file():
        import yaml

        imported.source_config = yaml.safe_load(hparams.read_text()) or {}
    return imported


@IMPORTERS.register("csv")
def read_csv(path: Path, mapping: dict[str, str]) -> Imported:
    """Any CSV with one row per evaluation (or sparse rows keyed by step)."""
    if not path.is_file():
        raise LogFormatError(f"no CSV file at {path}")
    return _from_rows(_read_csv(path), mapping, str(path))


@IMPORTERS.register("json")
def read_json(path: Path, mapping: dict[str, str]) -> Imported:
    """A JSON list of records, or a columnar object {column: [values...]} (e.g. training_history.json)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise LogFormatError(f"cannot read JSON from {path}: {err}") from None
    if isinstance(data, dict) and isinstance(data.get("columns"), dict):
        data = data["columns"]
    if isinstance(data, dict):
        lengths = {len(v) for v in data.values() if isinstance(v, list)}
        if len(lengths) != 1:
            raise LogFormatError(f"{path}: a columnar JSON needs lists of equal length; found keys {list(data)}")
        n = lengths.pop()
        data = [{k: v[i] for k, v in data.items() if isinstance(v, list)} for i in range(n)]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise LogFormatError(f"{path}: expected a list of records or an object of columns")
    return _from_rows(data, mapping, str(path))


@IMPORTERS.register("sacred")
def read_sacred(path: Path, mapping: dict[str, str]) -> Imported:
    """A Sacred FileStorageObserver run folder: metrics.json, run.json, config.json."""
    metrics_file = path / "metrics.json"
    if not metrics_file.is_file():
        raise LogFormatError(f"no metrics.json in {path} (expected a Sacred FileStorageObserver run folder)")
    metrics = json.loads(metrics_file.read_text())
    rows: dict[int, dict[str, Any]] = {}
    for name, entry in metrics.items():
        for step, value in zip(entry.get("steps", []), entry.get("values", []), strict=False):
            rows.setdefault(int(step), {"step": step})[name] = value
    imported = _from_rows(list(rows.values()), mapping, str(metrics_file))
    run = json.loads((path / "run.json").read_text()) if (path / "run.json").is_file() else {}
    imported.state = {"COMPLETED": "completed", "RUNNING": "running", "QUEUED": "queued"}.get(
        run.get("status", "COMPLETED"), "failed")
    if (path / "config.json").is_file():
        imported.source_config = json.loads((path / "config.json").read_text())
    return imported


@IMPORTERS.register("tensorboard")
def read_tensorboard(path: Path, mapping: dict[str, str]) -> Imported:
    """TensorBoard event files (a run folder or one events.out.tfevents file); needs the tensorboard package."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        raise LogFormatError("reading TensorBoard event files needs the tensorboard package: "
                             ".venv/bin/pip install tensorboard") from None
    accumulator = EventAccumulator(str(path), size_guidance={"scalars": 0})
    accumulator.Reload()
    tags = accumulator.Tags().get("scalars", [])
    if not tags:
        raise LogFormatError(f"no scalar events found under {path}")
    rows: dict[int, dict[str, Any]] = {}
    for tag in tags:
        for event in accumulator.Scalars(tag):
            rows.setdefault(event.step, {"step": event.step})[tag] = event.value
    return _from_rows(list(rows.values()), mapping, str(path))
