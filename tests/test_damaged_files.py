"""Damaged files, generated: copies of a real run folder and of real foreign logs, damaged the ways files get
damaged on a cluster (a kill mid-write, a full disk, a file from another tool, a hand edit), then read through
every path a user takes: `analyze` (figures drawn), `report`, `status`, `geometry`, `plot --measure`, and `import`
followed by analyze. Each must answer (exit 0, possibly partial, naming what it skipped) or refuse with exit 2 and
a message that names the damaged file and what is wrong with it: never a traceback, and never a change to the
files it read.

Cost: drawing figures takes about a second per command, so the many-example tests read through the API without
figures, and the figure-drawing ones take a few dozen examples, in this process (typer's CliRunner), not in
subprocesses."""

import copy
import csv
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from groklab import api
from groklab.cli import app
from groklab.common.checkpoint import CheckpointError
from groklab.common.run_folder import run_state
from groklab.config import ConfigError
from groklab.history import HistoryError
from groklab.importers import LogFormatError
from groklab.resolve import validate_run_config
from tests.conftest import TINY

USER_ERRORS = (ConfigError, HistoryError, LogFormatError, CheckpointError)
RUN_FILES = ("history.jsonl", "config.yaml", "status.json", "analysis.json")
CHECKPOINTS = ("checkpoints/step_000000060.pt", "checkpoints/step_000000120.pt")
OUTPUTS = re.compile(r"^(analysis\.json|training_history\.json|figures/.*)$")  # what analyze writes
MANY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])
WITH_FIGURES = settings(MANY, max_examples=30)

# What a refusal says, by the file damaged: the file named, and what is wrong with it.
NAMES_THE_PROBLEM = {
    "config.yaml": [r"config file \S+config\.yaml (does not exist|is not valid YAML|is not UTF-8 text \(byte \d+\)|"
                    r"must hold a mapping of config groups, found \w+)",
                    r"problems? in the config \S+config\.yaml: - .+?: \w",  # a field, then what is wrong with it
                    r"\S+ is not a groklab run folder: it has no config\.yaml",
                    r"\S+\.pt does not hold the weights of the model \S+config\.yaml describes \(.+\): was the config "
                    r"edited after the run\?"],
    "history.jsonl": [r"\S+history\.jsonl holds no evaluation records yet",
                      r"no history at \S+history\.jsonl: the run has not written an evaluation yet",
                      r"\S+history\.jsonl uses history schema version \d+, newer than this groklab understands"],
    "status.json": [],  # a status that cannot be read is state 'unknown': never a refusal
    "analysis.json": [],  # written by analyze, read by none of these
    "checkpoint": [r"\S+step_\d+\.pt (cannot be read \(\w+: .*\): it is damaged|is refused: it holds Python objects|"
                   r"is not a groklab checkpoint \(no step recorded\))",
                   r"\S+ kept [01] checkpoint\(s\); CKA with the final network needs at least two",
                   r"\S+ has no checkpoint with a token embedding"],
}
GONE = {"config.yaml": [r"no (readable )?run folders (\(with config\.yaml\) )?under \S+"]}  # not a run folder now


def refusal_ok(message: str, damaged: str, kind: str) -> bool:
    """Whether `message` names the damaged file (or, for a damaged checkpoint, the checkpoint) and its problem."""
    text = " ".join(message.split())
    family = "checkpoint" if damaged.endswith(".pt") else damaged
    patterns = NAMES_THE_PROBLEM[family] + (GONE.get(damaged, []) if kind == "delete_file" else [])
    return any(re.search(pattern, text) for pattern in patterns)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """A real run folder that records probes at every other evaluation (eval.probe_every, so records differ in
    their fields) and keeps two checkpoints (so `plot --measure` has something to draw)."""
    cfg = copy.deepcopy(TINY)
    cfg["train"].update(steps=120, checkpoint_every=60, keep_checkpoints_every=60)
    cfg["eval"].update(every=10, probes=["progress", "last_layer_norm"], probe_every=20)
    run_dir = api.run(validate_run_config(cfg), tmp_path_factory.mktemp("real") / "run", show_progress=False).run_dir
    assert all((run_dir / name).is_file() for name in (*RUN_FILES, *CHECKPOINTS))
    return run_dir


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


@pytest.fixture(scope="module")
def real_json(tmp_path_factory):
    """A list of JSON records with slash-style metric names, as a results dump of another tool."""
    path = tmp_path_factory.mktemp("json") / "results.json"
    path.write_text(json.dumps([{"step": step, "train/loss": 3 / (1 + step), "train/accuracy": step / 400,
                                 "val/loss": 3.2 / (1 + step), "val/accuracy": step / 800}
                                for step in range(0, 400, 20)], indent=1))
    return path


JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.text(max_size=6),
                        st.floats(allow_nan=True, allow_infinity=True), st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
BYTE_KINDS = ["truncate", "insert_bytes", "delete_file", "empty", "duplicate_line", "swap_lines"]
FIELD_KINDS = ["delete_field", "set_field", "non_finite_token"]


@st.composite
def damage(draw, files):
    """(file, kind, where, value, junk) of one damage to one of `files` (a binary file gets a byte-level one)."""
    name = draw(st.sampled_from(files))
    kinds = BYTE_KINDS if name.endswith((".pt", ".csv", "log")) else BYTE_KINDS + FIELD_KINDS
    return name, draw(st.sampled_from(kinds)), draw(st.integers(0, 10**9)), draw(JSON_VALUES), \
        draw(st.binary(min_size=1, max_size=8))


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
    elif kind in FIELD_KINDS:
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


def inputs(folder: Path) -> dict[str, bytes]:
    """Every file of `folder` a command reads (what analyze writes left out), with its bytes."""
    return {name: p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not OUTPUTS.match(name := p.relative_to(folder).as_posix())}


def cli(what: str, *args) -> tuple[int, str]:
    """The CLI in this process: (exit code, stdout and stderr). An exception that reaches it fails the test with
    the damage, the command and the exception (a user would have seen a traceback)."""
    try:
        result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    except Exception as err:  # noqa: BLE001  (the assertion names it)
        pytest.fail(f"{what}: groklab {' '.join(map(str, args))}: traceback: {type(err).__name__}: {err}")
    assert result.exit_code in (0, 2), (what, args, result.exit_code, result.output)
    assert "Traceback" not in result.output, (what, args, result.output)
    return result.exit_code, result.output


def assert_answers(what: str, damaged: str, kind: str, code: int, output: str, args) -> None:
    """Exit 0, or exit 2 with 'error:' and a message that names the damaged file and its problem."""
    if code == 2:
        assert output.lstrip().startswith("error:"), (what, args, output)
        assert refusal_ok(output, damaged, kind), f"{what}: groklab {' '.join(map(str, args))} exit 2 with a " \
                                                  f"message that does not name the file and its problem:\n{output}"


def answers_or_names_the_problem(what: str, damaged: str, kind: str, read) -> None:
    """An API call answers, or raises a user error whose message names the damaged file and its problem."""
    try:
        read()
    except USER_ERRORS as err:
        assert refusal_ok(str(err), damaged, kind), f"{what}: {type(err).__name__} that does not name the file " \
                                                   f"and its problem: {err}"
    except Exception as err:  # noqa: BLE001  (the assertion names it)
        pytest.fail(f"{what}: {type(err).__name__}: {err}")


def damaged_copy(real_run: Path, tmp_path_factory, spec, checkpoints: bool) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("damaged") / "run"
    shutil.copytree(real_run, folder, ignore=shutil.ignore_patterns(
        "figures", *(() if checkpoints else ("checkpoints",))))
    return folder, apply_damage(folder, spec)


@MANY
@given(spec=damage(RUN_FILES))
def test_every_reader_of_a_damaged_run_folder_answers_or_names_the_problem(real_run, tmp_path_factory, spec):
    """Many damages through the API (no figures): analysis, status, run state, geometry."""
    folder, what = damaged_copy(real_run, tmp_path_factory, spec, checkpoints=False)
    before = inputs(folder)
    for read in (lambda: api.analyze(folder, write=False), lambda: api.status(folder), lambda: run_state(folder),
                 lambda: api.geometry(folder)):
        answers_or_names_the_problem(what, spec[0], spec[1], read)
    assert inputs(folder) == before, what


COMMANDS = {  # one of these per example (each draws figures: a second or more), after status and geometry
    "analyze": lambda folder, out: ["analyze", folder],
    "report": lambda folder, out: ["report", folder, "--out", out / "report"],
    "plot embedding": lambda folder, out: ["plot", folder, "--measure", "embedding", "--out", out / "embedding.png"],
    "plot cka_final": lambda folder, out: ["plot", folder, "--measure", "cka_final", "--out", out / "cka.png"],
}


@WITH_FIGURES
@given(spec=damage(RUN_FILES + CHECKPOINTS), command=st.sampled_from(list(COMMANDS)))
def test_every_command_on_a_damaged_run_folder_answers_or_names_the_problem(real_run, tmp_path_factory, spec,
                                                                            command):
    """Fewer damages (checkpoints among the files), each through the CLI: status, geometry, then one of analyze
    (figures drawn; what it could not draw is a note and in analysis.json), report, plot --measure embedding or
    cka_final."""
    folder, what = damaged_copy(real_run, tmp_path_factory, spec, checkpoints=True)
    before = inputs(folder)
    for args in (["status", folder], ["geometry", folder], COMMANDS[command](folder, folder.parent / "out")):
        code, output = cli(what, *args)
        assert_answers(what, spec[0], spec[1], code, output, args)
    if command == "analyze" and code == 0:  # its figures exist, and analysis.json (strict JSON) says what was skipped
        analysis = json.loads((folder / "analysis.json").read_text())
        assert (folder / "figures" / "curves.png").stat().st_size > 0, what
        for problem in analysis["problems"]:
            assert " ".join(problem.split()) in " ".join(output.split()), (what, problem, output)
    assert inputs(folder) == before, what


def import_damaged_log(original: Path, folder: Path, spec) -> tuple[Path, str, str]:
    """A damaged copy of `original` in `folder`: (its path, the damage kind, a description)."""
    source = folder / original.name
    shutil.copy(original, source)
    _, kind, *rest = spec
    if kind in FIELD_KINDS and original.suffix == ".csv":
        kind = "insert_bytes"  # a CSV has no fields to edit as JSON
    return source, kind, apply_damage(folder, (source.name, kind, *rest))


LOG_ERRORS = [r"\S+ (has no header line naming its columns|cannot be read as a \w+ log \(\w+: .*\): it is damaged)",
              r"\S+: (no column for [\w, ]+\. Found: |columns .* could each be \w+; choose one|expected a list of "
              r"records or an object of columns|a columnar JSON needs lists of equal length|the mapped columns hold "
              r"no values)",
              r"cannot read JSON from \S+: ", r"\S+ does not exist",
              r"\S+: (train|test)_acc has values above 100 \(.*\): not an accuracy"]


def assert_log_refusal_named(what: str, message: str) -> None:
    text = " ".join(message.split())
    assert any(re.search(pattern, text) for pattern in LOG_ERRORS), f"{what}: a refusal that does not name the " \
                                                                     f"log and its problem: {message}"


@MANY
@given(spec=damage(("log",)), log_format=st.sampled_from(["lightning", "json"]))
def test_importing_a_damaged_log_answers_or_names_the_problem(real_csv, real_json, tmp_path_factory, spec,
                                                              log_format):
    """Many damages through the API (no figures): import, then analyze the imported run."""
    original = real_csv if log_format == "lightning" else real_json
    source, _, what = import_damaged_log(original, tmp_path_factory.mktemp("log"), spec)
    before = source.read_bytes() if source.exists() else None
    out = source.parent / "imported"
    try:
        api.import_run(log_format, source, out)
        api.analyze(out, write=False)
    except LogFormatError as err:
        assert_log_refusal_named(f"{log_format} {what}", str(err))
    except Exception as err:  # noqa: BLE001
        pytest.fail(f"{log_format} {what}: {type(err).__name__}: {err}")
    assert (source.read_bytes() if source.exists() else None) == before, what


@settings(WITH_FIGURES, max_examples=12)
@given(spec=damage(("log",)), log_format=st.sampled_from(["lightning", "json"]))
def test_import_of_a_damaged_log_then_analyze_with_figures_answers_or_names_the_problem(
        real_csv, real_json, tmp_path_factory, spec, log_format):
    """`groklab import` (which analyzes and draws the figures), then `groklab analyze` again."""
    original = real_csv if log_format == "lightning" else real_json
    source, kind, what = import_damaged_log(original, tmp_path_factory.mktemp("log"), spec)
    before = source.read_bytes() if source.exists() else None
    out = source.parent / "imported"
    code, output = cli(what, "import", log_format, source, "--out", out)
    if code == 2:
        assert output.lstrip().startswith("error:"), (what, output)
        assert_log_refusal_named(f"{log_format} {what}", output)
    else:
        assert (out / "figures" / "curves.png").stat().st_size > 0, what
        assert cli(what, "analyze", out)[0] == 0, what
    assert (source.read_bytes() if source.exists() else None) == before, what


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def _lines(records: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def _cut_inside_last_probe_free_line(text: str, lines: int) -> str:
    """The history cut in the middle of line `lines + 1`: what is left ends with a complete record that holds
    no probe (eval.probe_every), then part of the next."""
    kept = text.splitlines(keepends=True)
    assert "restricted_loss" not in kept[lines - 1], "the last complete record must lack the probes"
    return "".join(kept[:lines]) + kept[lines][: len(kept[lines]) // 2]


def _without(field: str, at: int):
    """The history cut to its first `at + 1` records, the last of which lacks `field`."""
    return lambda text: _lines([*_records(text)[:at], {k: v for k, v in _records(text)[at].items() if k != field}])


FIGURES = {"curves", "detail", "probes"}  # the copies leave the checkpoints out: no embedding figure
NAMED = ("history cut short at the end", "history cut in the middle",  # issue 33: these ended in a traceback
         "a record without train_acc, drawn on a log step axis", "a record without train_loss, drawn on a log axis")
# The damage classes found so far, each through the CLI with figures: (file, edit, analyze's exit code, what its
# notes must say (each a regular expression over the output, whitespace joined), what the figures folder holds).
DAMAGED_BY_HAND = {
    "history cut short at the end": ("history.jsonl", lambda text: text[:-25], 0,
                                     [r"history\.jsonl line 13 is cut short \(the run was probably killed while "
                                      r"writing\); skipped"], FIGURES),
    "history cut in the middle": ("history.jsonl", lambda text: _cut_inside_last_probe_free_line(text, 8), 0,
                                  [r"history\.jsonl line 9 is cut short \(the run was probably killed while "
                                   r"writing\); skipped"], FIGURES),
    "a record without train_acc, drawn on a log step axis": (
        "history.jsonl", _without("train_acc", 1), 0,
        [r"train_acc has no finite value after step 0 \(a log step axis starts after it\): not drawn in the "
         r"curves, detail, probes figures",
         r"train_acc - test_acc has no finite value after step 0 .*: not drawn in the detail figure"],
        FIGURES),
    "a record without train_loss, drawn on a log axis": (
        "history.jsonl", _without("train_loss", 1), 0,
        [r"train_loss has no finite value after step 0 \(a log step axis starts after it\): not drawn in the "
         r"curves, detail, probes figures"], FIGURES),
    "NaN and Infinity": ("history.jsonl", lambda text: text.replace('"train_loss": ', '"train_loss": NaN, "x": ', 1)
                         .replace('"test_loss": ', '"test_loss": Infinity, "y": ', 2), 0,
                         [r"history\.jsonl line 1 has train_loss nan, test_loss inf, not a finite number: read as "
                          r"missing",
                          r"history\.jsonl line 2 has test_loss inf, not a finite number: read as missing"],
                         FIGURES),
    "not UTF-8": ("history.jsonl", lambda text: text[:200] + "\udcff" + text[200:], 0,
                  [r"history\.jsonl line 1 is not UTF-8 text \(bytes of another file\?\); skipped"],
                  FIGURES),
    "step not a number": ("history.jsonl", lambda text: text.replace('"step": 10,', '"step": "ten",', 1), 0,
                          [r'history\.jsonl line 2 has step "ten", not a whole number of steps; skipped'],
                          FIGURES),
    "accuracy in percent": ("history.jsonl", lambda text: _lines(
        [{**r, "train_acc": 100 * r["train_acc"], "test_acc": 100 * r["test_acc"]} for r in _records(text)]), 0,
        [r"train_acc is in percent \(largest [\d.]+\): divided by 100",
         r"test_acc is in percent \(largest [\d.]+\): divided by 100"], FIGURES),
    "probes all zero": ("history.jsonl", lambda text: _lines(
        [{**r, "restricted_loss": 0.0, "weight_sq": 0.0, "last_layer_norm": 0.0} for r in _records(text)]), 0,
        [r"the panel 'total squared weights' has no positive value for its log axis: drawn on a linear axis in "
         r"the probes figure"], FIGURES),
    "status from another tool": ("status.json", lambda text: "\x00\x01 not json", 0, [],
                                 FIGURES),
    "config names an unknown probe": ("config.yaml", lambda text: text.replace("- last_layer_norm", "- l"), 0,
                                      [r"config\.yaml: eval\.probes: Unknown probe 'l'\..* \(its facts are left "
                                       r"out\)"], FIGURES),
    "config hand-edited wrong": ("config.yaml", lambda text: text.replace("steps: 120", "steps: lots"), 2,
                                 [r"error: 1 problem in the config \S+config\.yaml: - train\.steps: Input should be "
                                  r"a valid integer"], set()),
}


@pytest.mark.parametrize("damage_class", list(DAMAGED_BY_HAND))
def test_each_damage_class_through_the_cli_with_figures(real_run, tmp_path, damage_class):
    """analyze (figures drawn), status and, for the NAMED classes and refusals, report: the exit code and the notes
    expected of each class, in the output, in analysis.json and in the report. The NAMED ones ended in a traceback
    from the figures before: the probe panels were ordered by the fields of the last record (which a run with
    eval.probe_every, cut short, lacks), and a log axis with nothing drawn on it cannot place its ticks."""
    name, edit, analyze_code, notes, figures = DAMAGED_BY_HAND[damage_class]
    folder = tmp_path / "run"
    shutil.copytree(real_run, folder, ignore=shutil.ignore_patterns("figures", "analysis.json", "checkpoints"))
    (folder / name).write_bytes(edit((folder / name).read_text()).encode("utf-8", "surrogateescape"))
    before = inputs(folder)
    code, output = cli(damage_class, "analyze", folder)
    assert code == analyze_code, (damage_class, output)
    text = " ".join(output.split())
    for note in notes:
        assert re.search(note, text), (damage_class, note, output)
    assert {p.stem for p in (folder / "figures").glob("*.png")} == figures, damage_class  # none when refused
    if code == 0:
        analysis = json.loads((folder / "analysis.json").read_text())  # strict JSON: no NaN tokens
        for note in notes:
            assert any(re.search(note, " ".join(p.split())) for p in analysis["problems"]), (note, analysis)
        if name == "status.json":
            assert analysis["state"] == "unknown", analysis
    with_report = damage_class in NAMED or code != 0  # the report draws the figures again: a second or more
    for args in (["status", folder], *([["report", folder, "--out", tmp_path / "report"]] if with_report else [])):
        assert_answers(damage_class, name, "edit", *cli(damage_class, *args), args)
    if code == 0 and with_report:  # the report says what analyze said
        report = " ".join((tmp_path / "report" / "report.md").read_text().split())
        assert all(re.search(note, report) for note in notes), (damage_class, report)
    assert inputs(folder) == before, damage_class
