"""What every kind of study folder shares: a marker file that says what the folder was asked to compute, a claim
that refuses to mix two studies in one folder, discovery under a results folder, and its report section.

A study kind (a sweep, a ticket comparison, the speed-up table) is one module of this package that registers a
`StudyKind`; the report finds every kind's folders through this registry, so a new kind needs no other edit.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groklab.common.files import make_folder, write_atomic
from groklab.common.run_folder import CONFIG_FILE
from groklab.config import ConfigError
from groklab.registry import Registry
from groklab.report.render import SweepEntry


@dataclass(frozen=True)
class StudySection:
    """A study folder as the report shows it: its entry, the paper it belongs to (None: a table across
    papers), and the run folders it accounts for (not listed again one by one)."""

    entry: SweepEntry
    preset: str | None
    run_dirs: frozenset[Path]


@dataclass(frozen=True)
class StudyKind:
    name: str  # what the folder holds, in messages: "sweep"
    marker: str  # the file that marks the folder and records what it was asked (sweep.json)
    section: Callable[[Path, Path, Path], StudySection | None]
    """(folder, results folder, report figures folder) -> its report section; None while it cannot be shown."""
    extendable: bool = False
    """A later call may ask the same folder for more (the marker is rewritten); each run in it is still checked
    against the config it was trained with."""


STUDY_KINDS: Registry[StudyKind] = Registry("study kind")


def register(kind: StudyKind) -> StudyKind:
    return STUDY_KINDS.add(kind.name, kind)


def study_kinds() -> list[StudyKind]:
    """Every study kind, after importing the modules of this package that register them."""
    import groklab.studies as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return [STUDY_KINDS.get(name) for name in STUDY_KINDS.names()]


def claim_study(folder: Path, kind: StudyKind, spec: dict[str, Any]) -> None:
    """Record `spec` in a new folder (or one holding only run folders, e.g. a finished dense run copied in to be
    reused: each run is checked against its config before it is reused), or check that the folder already holds
    this very study; a folder that holds something else is refused and left as it is. Of several processes
    claiming one folder at once, the first marker written is the one all of them check against."""
    marker = folder / kind.marker
    record = json.dumps({"spec": spec, "created_at": time.time()}, indent=1)
    if not marker.is_file():
        if _holds_more_than_runs(folder, kind) and not marker.is_file():  # a marker now: another claim's
            raise FileExistsError(f"{folder} exists, holds more than run folders and is not a {kind.name} folder: "
                                  "choose another --out")
        make_folder(folder)
        if write_atomic(marker, record, keep_existing=True):
            return
    saved = read_study_spec(folder, kind)
    if saved == spec:
        return
    if not kind.extendable:
        raise FileExistsError(f"{folder} holds a different {kind.name} ({_describe(saved)}; this call asks for "
                              f"{_describe(spec)}); groklab never mixes studies: choose another --out")
    write_atomic(marker, record)


def _holds_more_than_runs(folder: Path, kind: StudyKind) -> bool:
    """Whether `folder` holds anything but run folders (another writer's hidden temporary entries aside)."""
    return folder.exists() and any(not (entry / CONFIG_FILE).is_file() for entry in folder.iterdir()
                                   if not entry.name.startswith(".") and entry.name != kind.marker)


def read_study_spec(folder: Path, kind: StudyKind) -> dict[str, Any]:
    """What a study folder was asked to compute (folders written before the marker held {"spec": ...} hold the
    spec itself)."""
    marker = folder / kind.marker
    if not marker.is_file():
        raise FileNotFoundError(f"{folder} is not a {kind.name} folder (no {kind.marker})")
    try:
        saved = json.loads(marker.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError([f"{marker} is damaged ({type(err).__name__}: {err}): it records what the {kind.name} "
                           "was asked; restore it, or move the folder away"]) from None
    spec = saved.get("spec", saved) if isinstance(saved, dict) else None
    if not isinstance(spec, dict):
        raise ConfigError([f"{marker} does not describe a {kind.name} (found {type(spec).__name__})"])
    return spec


def study_sections(runs_dir: Path, figures_dir: Path) -> tuple[list[StudySection], list[str]]:
    """The report sections of every study folder under `runs_dir`, and a line for each folder that could not be
    read (its runs are then reported one by one)."""
    sections, problems = [], []
    for kind in study_kinds():
        for folder in find_studies(runs_dir, kind):
            try:
                section = kind.section(folder, runs_dir, figures_dir)
            except (ConfigError, TypeError) as err:  # TypeError: a marker whose spec has other fields
                problems.append(f"{kind.name} {folder}: {err}")
                continue
            if section is not None:
                sections.append(section)
    return sections, problems


def find_studies(root: Path, kind: StudyKind) -> list[Path]:
    """The folders of `kind` at or below `root`."""
    return sorted(p.parent for p in root.rglob(kind.marker)) if root.is_dir() else []


def _describe(spec: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value}" for key, value in spec.items() if value not in (None, [], {}))
