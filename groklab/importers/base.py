"""Shared pieces of the importers: column mapping, percent detection, writing a groklab run folder."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groklab.common.files import new_folder, write_atomic
from groklab.common.run_folder import HISTORY_FILE, SOURCE_FILE, write_status
from groklab.history import HistoryWriter, make_record

TARGETS = ("step", "train_loss", "train_acc", "test_loss", "test_acc")

# Names other tools use for groklab's fields, most specific first (openai/grok's Lightning metrics,
# danielmamay's wandb keys, Grokfast's result dicts, common spellings).
ALIASES: dict[str, tuple[str, ...]] = {
    "step": ("step", "global_step", "steps", "iteration", "iter", "its", "epoch"),
    "train_loss": ("full_train_loss", "train_loss", "training/loss", "train/loss", "loss_train", "train_losses"),
    "train_acc": ("full_train_acc", "train_accuracy", "train_acc", "training/accuracy", "train/accuracy",
                  "train/acc", "acc_train", "train_accs"),
    "test_loss": ("val_loss", "test_loss", "validation/loss", "val/loss", "test/loss", "valid_loss", "val_losses"),
    "test_acc": ("val_accuracy", "val_acc", "test_accuracy", "test_acc", "validation/accuracy", "val/accuracy",
                 "val/acc", "test/accuracy", "valid_acc", "val_accs"),
}


class LogFormatError(ValueError):
    """A log that cannot be turned into a history; the message says what was found and how to map it."""


@dataclass
class Imported:
    """Series read from another tool, keyed by groklab field name, plus what we know of the source."""

    series: dict[str, dict[int, float]]  # field -> {step: value}
    state: str = "completed"
    source_config: dict[str, Any] = field(default_factory=dict)
    mapping: dict[str, str] = field(default_factory=dict)
    converted_from_percent: list[str] = field(default_factory=list)


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """['train_acc=acc', ...] -> {'train_acc': 'acc'}; keys must be groklab fields."""
    mapping = {}
    for pair in pairs:
        key, sep, source = pair.partition("=")
        if not sep or key not in TARGETS:
            raise LogFormatError(f"mapping {pair!r} must be FIELD=SOURCE_COLUMN with FIELD one of {', '.join(TARGETS)}")
        mapping[key] = source
    return mapping


SPLIT_WORDS = {"train": "train", "training": "train", "test": "test", "testing": "test", "val": "test",
               "valid": "test", "validation": "test", "eval": "test", "dev": "test"}
METRIC_WORDS = {"loss": "loss", "losses": "loss", "acc": "acc", "accs": "acc", "accuracy": "acc",
                "accuracies": "acc"}
NEUTRAL_WORDS = {"", "metrics", "mean", "avg", "pct", "percent", "set"}
STEP_WORDS = {"step", "steps", "iteration", "iter", "epoch"}


def spelled_field(column: str) -> str | None:
    """The groklab field a column name spells in any common style (train/accuracy, training.accuracy,
    val_acc_pct, trainLoss, 'Validation Loss'), or None when it names something else or is ambiguous."""
    words = re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", column).lower())
    splits = {SPLIT_WORDS[w] for w in words if w in SPLIT_WORDS}
    metrics = {METRIC_WORDS[w] for w in words if w in METRIC_WORDS}
    others = [w for w in words if w not in SPLIT_WORDS and w not in METRIC_WORDS and w not in NEUTRAL_WORDS]
    if len(splits) == 1 and len(metrics) == 1 and not others:
        return f"{splits.pop()}_{metrics.pop()}"
    if set(words) & STEP_WORDS and set(words) <= STEP_WORDS | {"", "global", "trainer"}:
        return "step"
    return None


def resolve_columns(found: Iterable[str], mapping: dict[str, str], where: str) -> dict[str, str]:
    """Choose a source column for each groklab field: the user's mapping first, then known names, then any
    column that spells the field in another style (refused when two columns do)."""
    found = [column for column in found if isinstance(column, str)]
    chosen = {}
    for target in TARGETS:
        if target in mapping:
            if mapping[target] not in found:
                raise LogFormatError(f"{where}: column {mapping[target]!r} (mapped to {target}) not found; "
                                     f"found: {', '.join(found)}")
            chosen[target] = mapping[target]
            continue
        match = next((alias for alias in ALIASES[target] if alias in found), None)
        if match is None:
            spelled = [column for column in found if spelled_field(column) == target]
            if len(spelled) > 1:
                raise LogFormatError(f"{where}: columns {', '.join(spelled)} could each be {target}; choose one, "
                                     f"e.g. --map {target}={spelled[0]}")
            match = spelled[0] if spelled else None
        if match is not None:
            chosen[target] = match
    missing = [t for t in TARGETS if t not in chosen]
    if missing:
        raise LogFormatError(
            f"{where}: no column for {', '.join(missing)}. Found: {', '.join(found) or 'nothing'}. "
            f"Map them, e.g. --map {missing[0]}=<column>")
    return chosen


def to_fraction(imported: Imported) -> None:
    """Accuracies logged in percent (any value above 1) are divided by 100, and the conversion recorded."""
    for name in ("train_acc", "test_acc"):
        values = [v for v in imported.series[name].values() if math.isfinite(v)]
        if values and max(values) > 1.0:
            if max(values) > 100.0:
                raise LogFormatError(f"{name} has values above 100 ({max(values)}): not an accuracy")
            imported.series[name] = {s: v / 100.0 for s, v in imported.series[name].items()}
            imported.converted_from_percent.append(name)


def write_run(imported: Imported, out: Path, source_format: str, source_path: Path) -> Path:
    """Create a groklab run folder (history.jsonl, status.json, source.json) from imported series."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not empty; choose another --out")
    to_fraction(imported)
    steps = sorted(set().union(*(imported.series[name].keys() for name in TARGETS[1:])))
    if not steps:
        raise LogFormatError(f"{source_path}: the mapped columns hold no values")
    extra = sorted(set(imported.series) - set(TARGETS))
    with new_folder(out) as folder:  # `out` appears whole or not at all
        with HistoryWriter(folder / HISTORY_FILE) as history:
            for step in steps:
                values = {name: imported.series[name].get(step) for name in (*TARGETS[1:], *extra)}
                history.write(make_record(step, **values))
        write_status(folder, imported.state, step=steps[-1], total_steps=steps[-1])
        source = {"format": source_format, "path": str(source_path.resolve()), "columns": imported.mapping,
                  "converted_from_percent": imported.converted_from_percent, "config": imported.source_config}
        write_atomic(folder / SOURCE_FILE, json.dumps(source, indent=1, default=str))
    return out
