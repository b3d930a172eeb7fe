"""Damaged files, generated: copies of a real run folder and of real foreign logs, damaged the ways files get
damaged on a cluster (a kill mid-write, a full disk, a file from another tool, a hand edit). Every reader must
answer with a result (possibly partial, naming what it skipped) or a user error that names the problem: never
another exception, and never a change to the files it read."""

import copy
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groklab import api
from groklab.common.checkpoint import CheckpointError
from groklab.config import ConfigError
from groklab.history import HistoryError
from groklab.importers import LogFormatError
from groklab.registry import RegistryError
from groklab.resolve import validate_run_config
from groklab.runs import run_state
from tests.conftest import TINY

USER_ERRORS = (ConfigError, HistoryError, LogFormatError, CheckpointError, RegistryError, FileNotFoundError,
               FileExistsError)
RUN_FILES = ("history.jsonl", "config.yaml", "status.json", "analysis.json")
CASES = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """A real run folder that records probes (so the probe figure and the signature facts are exercised)."""
    cfg = copy.deepcopy(TINY)
    cfg["train"]["steps"] = 120
    cfg["eval"].update(every=10, probes=["progress", "last_layer_norm"])
    return api.run(validate_run_config(cfg), tmp_path_factory.mktemp("real") / "run", show_progress=False).run_dir


@pytest.fixture(scope="module")
def real_csv(tmp_path_factory):
    """A CSV log as Lightning's CSVLogger writes it (sparse rows, one per logging call)."""
    path = tmp_path_factory.mktemp("csv") / "metrics.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc"])
        writer.writeheader()
        for step in range(0, 400, 20):
            writer.writerow({"epoch": step // 100, "step": step, "train_loss": 3 / (1 + step), "train_acc": step / 400})
            writer.writerow({"epoch": step // 100, "step": step, "val_loss": 3.2 / (1 + step), "val_acc": step / 800})
    return path


JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.text(max_size=6),
                        st.floats(allow_nan=True, allow_infinity=True), st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@st.composite
def damage(draw, files):
    """(file, kind, how) of one damage to one of `files`."""
    name = draw(st.sampled_from(files))
    kind = draw(st.sampled_from(["truncate", "insert_bytes", "delete_file", "empty", "duplicate_line", "swap_lines",
                                 "delete_field", "set_field", "non_finite_token"]))
    return name, kind, draw(st.integers(0, 10**9)), draw(JSON_VALUES), draw(st.binary(min_size=1, max_size=8))


def apply_damage(folder: Path, spec) -> str:
    """Damage one file of `folder` in place; a description for the failure message."""
    name, kind, where, value, junk = spec
    path = folder / name
    data = path.read_bytes()
    lines = data.split(b"\n")
    at = where % (len(data) + 1)
    if kind == "truncate":
        path.write_bytes(data[:at])
    elif kind == "insert_bytes":
        path.write_bytes(data[:at] + junk + data[at:])
    elif kind == "delete_file":
        path.unlink()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind in ("duplicate_line", "swap_lines"):
        i, j = where % len(lines), (where // 7) % len(lines)
        if kind == "duplicate_line":
            lines.insert(j, lines[i])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        path.write_bytes(b"\n".join(lines))
    elif kind in ("delete_field", "set_field", "non_finite_token"):
        path.write_bytes(_edit_field(name, data, where, value, kind))
    return f"{name}: {kind} at {where} ({value!r}, {junk!r})"


def _edit_field(name: str, data: bytes, where: int, value, kind: str) -> bytes:
    """Delete or change one field of one record (history line, JSON object, YAML mapping)."""
    if name.endswith(".jsonl"):
        lines = data.decode().splitlines()
        i = where % len(lines)
        lines[i] = _edit_text(lines[i], where, value, kind, json.loads, json.dumps)
        return ("\n".join(lines) + "\n").encode()
    if name.endswith(".yaml"):
        return _edit_text(data.decode(), where, value, kind, yaml.safe_load, yaml.safe_dump).encode()
    return _edit_text(data.decode(), where, value, kind, json.loads, json.dumps).encode()


def _edit_text(text, where, value, kind, load, dump):
    obj = load(text)
    root = obj[where % len(obj)] if isinstance(obj, list) and obj else obj  # a list of records: one of them
    node, keys = root, []
    while isinstance(node, dict) and node:  # walk down to a random leaf
        key = sorted(node)[where % len(node)]
        keys.append(key)
        if not isinstance(node[key], dict) or where % 3 == 0:
            break
        node, where = node[key], where // 3
    if not keys:
        return text
    parent = root
    for key in keys[:-1]:
        parent = parent[key]
    if kind == "delete_field":
        del parent[keys[-1]]
    elif kind == "set_field":
        parent[keys[-1]] = value
    else:
        parent[keys[-1]] = float("nan") if where % 2 else float("inf")
    return dump(obj)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@CASES
@given(spec=damage(RUN_FILES))
def test_every_reader_of_a_damaged_run_folder_answers_or_names_the_problem(real_run, tmp_path_factory, spec):
    folder = tmp_path_factory.mktemp("damaged") / "run"
    shutil.copytree(real_run, folder, ignore=shutil.ignore_patterns("checkpoints", "figures"))
    what = apply_damage(folder, spec)
    before = snapshot(folder)
    for read in (lambda: api.analyze(folder, write=False), lambda: api.status(folder), lambda: run_state(folder)):
        try:
            read()
        except USER_ERRORS:
            pass
        except Exception as err:  # noqa: BLE001  (the assertion names it)
            pytest.fail(f"{what}: {type(err).__name__}: {err}")
    assert snapshot(folder) == before, what


@pytest.fixture(scope="module")
def real_json(tmp_path_factory):
    """A list of JSON records with slash-style metric names, as a results dump of another tool."""
    path = tmp_path_factory.mktemp("json") / "results.json"
    path.write_text(json.dumps([{"step": step, "train/loss": 3 / (1 + step), "train/accuracy": step / 400,
                                 "val/loss": 3.2 / (1 + step), "val/accuracy": step / 800}
                                for step in range(0, 400, 20)], indent=1))
    return path


@CASES
@given(spec=damage(("log",)), log_format=st.sampled_from(["lightning", "json"]))
def test_importing_a_damaged_log_answers_or_names_the_problem(real_csv, real_json, tmp_path_factory, spec,
                                                              log_format):
    original = real_csv if log_format == "lightning" else real_json
    source = tmp_path_factory.mktemp("log") / original.name
    shutil.copy(original, source)
    _, kind, *rest = spec
    if kind in ("delete_field", "set_field", "non_finite_token") and log_format == "lightning":
        kind = "insert_bytes"  # a CSV has no fields to edit as JSON
    what = apply_damage(source.parent, (source.name, kind, *rest))
    before = source.read_bytes() if source.exists() else None
    out = source.parent / "imported"
    try:
        api.import_run(log_format, source, out)
        api.analyze(out, write=False)
    except USER_ERRORS:
        pass
    except Exception as err:  # noqa: BLE001
        pytest.fail(f"{log_format} {what}: {type(err).__name__}: {err}")
    assert (source.read_bytes() if source.exists() else None) == before, what


DAMAGED_BY_HAND = {  # the damage classes of issue 20, each through the real CLI with figures drawn
    "cut short": ("history.jsonl", lambda text: text[:-25]),
    "NaN and Infinity": ("history.jsonl", lambda text: text.replace('"train_loss": ', '"train_loss": NaN, "x": ', 1)
                         .replace('"test_loss": ', '"test_loss": Infinity, "y": ', 2)),
    "not UTF-8": ("history.jsonl", lambda text: text[:200] + "\udcff" + text[200:]),
    "step not a number": ("history.jsonl", lambda text: text.replace('"step": 10,', '"step": "ten",', 1)),
    "accuracy in percent": ("history.jsonl", lambda text: "\n".join(
        json.dumps({**r, "train_acc": 100 * r["train_acc"], "test_acc": 100 * r["test_acc"]})
        for r in map(json.loads, text.splitlines())) + "\n"),
    "probes all zero": ("history.jsonl", lambda text: "\n".join(
        json.dumps({**r, "restricted_loss": 0.0, "weight_sq": 0.0, "last_layer_norm": 0.0})
        for r in map(json.loads, text.splitlines())) + "\n"),
    "status from another tool": ("status.json", lambda text: "\x00\x01 not json"),
    "config hand-edited wrong": ("config.yaml", lambda text: text.replace("steps: 120", "steps: lots")),
}


@pytest.mark.parametrize("damage_class", sorted(DAMAGED_BY_HAND))
def test_the_cli_never_shows_a_traceback_and_draws_what_it_can(real_run, tmp_path, damage_class):
    folder = tmp_path / "run"
    shutil.copytree(real_run, folder)
    name, edit = DAMAGED_BY_HAND[damage_class]
    (folder / name).write_bytes(edit((folder / name).read_text()).encode("utf-8", "surrogateescape"))
    for args in (["analyze", str(folder)], ["status", str(folder)], ["report", str(folder), "--out",
                                                                       str(tmp_path / "report")]):
        proc = subprocess.run([sys.executable, "-m", "groklab.cli", *args], capture_output=True, text=True)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
        assert proc.returncode in (0, 2), (args, proc.returncode, proc.stderr)
        if proc.returncode == 2:
            assert proc.stderr.startswith("error:") and str(folder) in proc.stderr or "config" in proc.stderr, \
                proc.stderr
    if damage_class != "config hand-edited wrong":
        analysis = json.loads((folder / "analysis.json").read_text())  # strict JSON: no NaN tokens
        assert (folder / "figures" / "curves.png").stat().st_size > 0
        if name == "history.jsonl" and damage_class != "probes all zero":
            assert analysis["problems"], analysis  # what was skipped or set right is stated
        if name == "status.json":
            assert analysis["state"] == "unknown", analysis
