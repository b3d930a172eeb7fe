"""Long histories: the columnar reader against the line-by-line rules it stands in for, the columnar export, and
the analyses rewritten to run in time linear in a history's length (benchmarks/history_scale.py times them)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groklab.analysis.events import transitions
from groklab.analysis.linear_theory import first_predicted_steps, predicted_losses, predicted_step
from groklab.history import History, HistoryError, load_history, make_record
from groklab.history import columns as columnar
from groklab.history.export import training_history_json
from groklab.history.reader import _few, _is_accuracy, read_records


def reference_records(records):
    """The reader's rules on a list of records, as they were before the columnar reader (the oracle)."""
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
    for name in sorted({k for r in records for k in r if _is_accuracy(k)}):
        values = [r[name] for r in records if r.get(name) is not None]
        if not values or min(values) >= 0 and max(values) <= 1:
            continue
        if min(values) >= 0 and max(values) <= 100 and sum(v > 1 for v in values) >= len(values) / 2:
            records = [{**r, name: r[name] / 100} if r.get(name) is not None else r for r in records]
            problems.append(f"{name} is in percent (largest {max(values):g}): divided by 100")
            continue
        outside = [r["step"] for r in records if r.get(name) is not None and not 0 <= r[name] <= 1]
        records = [{**r, name: None} if r.get(name) is not None and not 0 <= r[name] <= 1 else r for r in records]
        problems.append(f"{name} is outside [0, 1] at {len(outside)} steps ({_few(outside)}), impossible for an "
                        "accuracy: read as missing")
    return records, problems


def reference_history(path):
    records, problems = read_records(path)
    if not records:
        raise HistoryError(f"{path} holds no evaluation records yet")
    records, checked = reference_records(records)
    return History(records, problems + checked)


def assert_same(path):
    """load_history(path) reads what the line-by-line rules read: records, types, problems, columns, export."""
    try:
        expected = reference_history(path)
    except HistoryError as err:
        with pytest.raises(HistoryError) as raised:
            load_history(path)
        assert str(raised.value) == str(err)
        return
    got = load_history(path)
    assert got.problems == expected.problems
    assert len(got) == len(expected)
    reordered = any("out of order" in p or "duplicated" in p for p in expected.problems)
    if reordered:  # the fields first written by the same record may come in another order
        assert sorted(got.series_names) == sorted(expected.series_names)
    else:
        assert got.series_names == expected.series_names
    assert list(got.records) == list(expected.records)
    integers = {name for name in expected.series_names  # a series written all as integers reads as ints
                if all(isinstance(r[name], int) for r in expected.records if r.get(name) is not None)}
    assert [{k: type(v) for k, v in r.items() if k in integers} for r in got.records] == \
        [{k: type(v) for k, v in r.items() if k in integers} for r in expected.records]
    for name in [*expected.series_names, "absent"]:
        assert np.array_equal(got.column(name), expected.column(name), equal_nan=True), name
        assert got.has(name) == expected.has(name), name
    exported = json.loads(training_history_json(got, {"state": "completed"}))
    assert exported["columns"] == {name: [r.get(name) for r in expected.records] for name in expected.series_names}
    assert reordered or list(exported["columns"]) == expected.series_names
    rows = np.arange(0, len(got), 3)
    assert list(got.take(rows).records) == [expected.records[i] for i in rows]


def writer_lines(n=60, probe_every=4, seed=0):
    """Lines as the trainer writes them: the core series at every record, a probe's series every few."""
    rng = np.random.default_rng(seed)
    lines = []
    for step in range(n):
        probes = {"rep_rank_train": float(rng.random() * 100), "weight_norm/readout.weight": float(rng.random()),
                  "probe_s/representation": round(float(rng.random()), 4), "probe_s": 0.05}
        record = make_record(step, epoch=float(step), train_loss=float(rng.random()) * 10.0 ** -rng.integers(0, 20),
                             train_acc=int(rng.integers(0, 400)) / 400, test_loss=float(rng.normal()),
                             test_acc=float(rng.random()), param_norm=3.1, lr=2.0, elapsed_s=round(step * 0.064, 3),
                             count=int(rng.integers(-5, 5)), gap=None if step % 7 == 3 else float(step),
                             **(probes if step % probe_every == 0 else {}))
        lines.append(json.dumps(record, allow_nan=False))
    return lines


@pytest.fixture(params=[1 << 20, 700], ids=["one block", "many blocks"])
def block_bytes(request, monkeypatch):
    monkeypatch.setattr(columnar, "BLOCK_BYTES", request.param)
    return request.param


def test_the_writers_own_lines_are_read_as_columns_and_the_same(tmp_path, block_bytes):
    lines = writer_lines()
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert columnar.fast_block(path.read_bytes(), 1) is not None  # the fast path is the one taken
    assert_same(path)
    path.write_text("\n".join(lines))  # no newline after the last record
    assert_same(path)


VALID = ["0", "-0", "1.5", "-1.5e-07", "1e5", "1E+05", "2.5E-3", "0.0", "10", "123456789", "0e1", "null",
         "-0.000001", "1.2345678901234567e-99"]
LINE_BY_LINE = ["1.7976931348623157e+308", "5e-324", "1e-0300"]  # valid, but three exponent digits: not on trust
INVALID = ["01", "-01", "1.", ".5", "+1", "1e", "1e+", "--1", "-", "1.2.3", "1e5.3", "1e5e3", "1-2", "1+2", "0x1",
           "nan", "NaN", "Infinity", "-Infinity", "1e999", "1e400", "true", "false", '"1"', "1_0", "nul", "nulll",
           "[1]", "{}", "1 2", "", "e5", "1.e5", "-.5", "1.5-", "1e-5.0", "1\x002"]


@pytest.mark.parametrize("token", VALID + LINE_BY_LINE + INVALID)
def test_a_value_is_taken_on_trust_only_when_json_reads_it_as_a_finite_number(tmp_path, token):
    path = tmp_path / "history.jsonl"
    text = f'{{"schema_version": 1, "step": 0, "x": 1.0}}\n{{"schema_version": 1, "step": 1, "x": {token}}}\n'
    path.write_bytes(text.encode())
    assert (columnar.fast_block(text.encode(), 1) is not None) == (token in VALID), token
    assert_same(path)


@pytest.mark.parametrize("line", [
    '{"schema_version": 2, "step": 1}', '{"schema_version": 1.0, "step": 1}', '{"step": 1.0}', '{"step": -1}',
    '{"step": 9007199254740993}', '{"step": 1, "step": 2}', '{"step": 1}{"step": 2}', '{"step": 1} ',
    '{"step":1}', '{ "step": 1}', '{"step": 1, "a\\u00e9": 2}', '{"step": 1, "\xe9": 2}', '{"step": 1, "": 2}',
    '{}', '', '   ', '{"step": null}', '{"x": 1}', '[1, 2]', '{"step": 1, "a": 2,}', '{"step": 2, "test_acc": 95}',
    '{"step": 1, "train_acc": 1.5}', '{"step": 0, "a": 1}\r',
])
def test_a_line_of_another_form_reads_as_the_line_by_line_rules_read_it(tmp_path, line, block_bytes):
    lines = writer_lines(12)
    path = tmp_path / "history.jsonl"
    path.write_bytes(("\n".join(lines[:6] + [line] + lines[6:]) + "\n").encode())
    assert_same(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_histories_read_the_same_as_line_by_line(tmp_path, data):
    columnar.BLOCK_BYTES = data.draw(st.sampled_from([1 << 20, 300, 1500]))
    try:
        text = bytearray(("\n".join(writer_lines(20, seed=data.draw(st.integers(0, 5)))) + "\n").encode())
        for _ in range(data.draw(st.integers(0, 4))):
            if not text:
                break
            at = data.draw(st.integers(0, len(text) - 1))
            kind = data.draw(st.sampled_from(["insert", "delete", "replace", "cut", "duplicate", "swap"]))
            byte = data.draw(st.sampled_from(list(b'0123456789.-+eE ",:{}[]\nnulx\\') + [0, 0xE9]))
            if kind == "insert":
                text[at:at] = bytes([byte])
            elif kind == "delete":
                del text[at]
            elif kind == "replace":
                text[at] = byte
            elif kind == "cut":
                del text[at:]
            else:
                lines = bytes(text).split(b"\n")
                i, j = data.draw(st.integers(0, len(lines) - 1)), data.draw(st.integers(0, len(lines) - 1))
                if kind == "duplicate":
                    lines.insert(j, lines[i])
                else:
                    lines[i], lines[j] = lines[j], lines[i]
                text = bytearray(b"\n".join(lines))
        path = tmp_path / "history.jsonl"
        path.write_bytes(bytes(text))
        assert_same(path)
    finally:
        columnar.BLOCK_BYTES = 8 << 20


def test_a_long_history_is_held_as_columns_not_records(tmp_path):
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(writer_lines(3000)) + "\n")
    history = load_history(path)
    assert history._series is not None and not isinstance(history.records, list)
    assert history.records[-1] == json.loads(path.read_text().splitlines()[-1])
    assert all(part.values is None for part in history._series["param_norm"].parts)  # not converted until asked


def reference_transitions(steps, test_acc, min_rise=0.2, tolerance=0.02):
    """transitions() as it was: the largest value of the stretch so far taken again at every step."""
    acc = np.nan_to_num(test_acc, nan=0.0)
    found, start = [], 0
    for i in range(1, len(acc) + 1):
        if not (i == len(acc) or acc[i] < acc[start:i].max() - tolerance):
            continue
        peak = start + int(np.argmax(acc[start:i]))
        rising = acc[start : peak + 1]
        low = start + int(np.flatnonzero(rising <= rising.min() + tolerance)[-1])
        if acc[peak] - acc[low] >= min_rise:
            half = (acc[low] + acc[peak]) / 2
            mid = low + int(np.argmax(acc[low : peak + 1] >= half))
            found.append({"start_step": int(steps[low]), "end_step": int(steps[peak]), "from_acc": float(acc[low]),
                          "to_acc": float(acc[peak]), "mid_step": int(steps[mid])})
        start = i
    return found


@pytest.mark.parametrize("seed", range(40))
def test_transitions_found_in_linear_time_are_the_same(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 500))
    acc = [rng.random(n), np.clip(np.cumsum(rng.normal(0, 0.03, n)), 0, 1), np.round(rng.random(n) * 5) / 5,
           1 / (1 + np.exp(-(np.arange(n) - n / 2) / 10)) + rng.normal(0, 0.01, n)][seed % 4]
    acc[rng.integers(0, n, 2)] = np.nan
    steps = np.cumsum(rng.integers(1, 5, n))
    for tolerance in (0.0, 0.02, 0.1):
        assert transitions(steps, acc, 0.2, tolerance) == reference_transitions(steps, acc, 0.2, tolerance)


@pytest.mark.parametrize(("ratio", "lr", "weight_decay", "last"), [
    (0.5, 2.0, 0.0, 3000), (0.8, 2.0, 0.0, 3000), (0.5, 2.0, 0.01, 3000), (0.5, 6.0, 0.0, 600), (0.3, 0.5, 0.0, 900)])
def test_predicted_steps_in_blocks_are_those_of_the_whole_curve(ratio, lr, weight_decay, last):
    steps = np.arange(last + 1)
    with np.errstate(all="ignore"):
        curves = predicted_losses(steps, ratio, 200, 10, lr, weight_decay, 1.0)
        whole = {split: predicted_step(curves[split], steps, 1e-3, q) for split, q in (("train", 0.95), ("test", 0.99))}
        assert first_predicted_steps(last, ratio, 200, 10, lr, weight_decay, 1.0, 1e-3,
                                     {"train": 0.95, "test": 0.99}) == whole


def test_a_run_of_a_million_steps_is_predicted_without_a_table_of_every_step():
    found = first_predicted_steps(10**6, 0.5, 200, 10, 2.0, 0.0, 1.0, 1e-3, {"train": 0.95, "test": 0.95})
    assert found == {"train": 36, "test": 59}
    assert math.isfinite(found["test"])
