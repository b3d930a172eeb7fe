"""Importers: other tools' logs -> groklab run folders that analyze, status and report treat like any run."""

import csv
import json
from pathlib import Path

import yaml

from groklab.importers.base import LogFormatError, parse_mapping, write_run
from groklab.importers.formats import IMPORTERS


def import_run(fmt: str, path: Path, out: Path, mapping: list[str] | None = None) -> Path:
    """Read `path` in format `fmt` and write a groklab run folder at `out`."""
    if not path.exists():
        raise LogFormatError(f"{path} does not exist")
    reader = IMPORTERS.get(fmt)
    try:
        imported = reader(path, parse_mapping(mapping or []))
    except (UnicodeDecodeError, csv.Error, json.JSONDecodeError, yaml.YAMLError) as err:
        raise LogFormatError(f"{path} cannot be read as a {IMPORTERS.canonical(fmt)} log ({type(err).__name__}: "
                             f"{str(err)[:160]}): it is damaged or in another format; check --format") from None
    return write_run(imported, out, IMPORTERS.canonical(fmt), path)


__all__ = ["IMPORTERS", "LogFormatError", "import_run"]
