import json

import pytest

from groklab.history import (
    SCHEMA_VERSION,
    HistoryError,
    HistoryWriter,
    keep_records_through,
    load_history,
    make_record,
    write_training_history,
)


def write(path, n):
    with HistoryWriter(path) as writer:
        for step in range(n):
            writer.write(make_record(step * 10, train_loss=1.0 / (step + 1), train_acc=0.1 * step, test_loss=2.0,
                                     test_acc=0.05 * step))


def test_round_trip_and_columnar_export(tmp_path):
    path = tmp_path / "history.jsonl"
    write(path, 5)
    history = load_history(path)
    assert history.steps.tolist() == [0, 10, 20, 30, 40]
    assert history.column("train_acc").tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    write_training_history(history, tmp_path / "training_history.json", {"preset": "x"})
    exported = json.loads((tmp_path / "training_history.json").read_text())
    assert exported["schema_version"] == SCHEMA_VERSION and exported["run"] == {"preset": "x"}
    assert exported["columns"]["step"] == [0, 10, 20, 30, 40]
    assert exported["columns"]["test_acc"] == [r["test_acc"] for r in history.records]


def test_non_finite_values_are_written_as_null_and_read_as_nan(tmp_path):
    path = tmp_path / "history.jsonl"
    with HistoryWriter(path) as writer:
        writer.write(make_record(0, train_loss=float("nan"), train_acc=0.0, test_loss=float("inf"), test_acc=0.0))
    assert json.loads(path.read_text())["train_loss"] is None
    history = load_history(path)
    assert history.column("train_loss")[0] != history.column("train_loss")[0]  # NaN


def test_truncated_last_line_is_skipped_and_reported(tmp_path):
    path = tmp_path / "history.jsonl"
    write(path, 3)
    with open(path, "a") as handle:
        handle.write('{"schema_version": 1, "step": 30, "train_lo')
    history = load_history(path)
    assert len(history) == 3 and "cut short" in history.problems[0]
    assert path.read_text().endswith("train_lo")  # the input is never modified by reading


@pytest.mark.parametrize("step", [9223372036854775296, 9.3e18, 2**53 + 1])  # the first found by hypothesis
def test_a_step_too_large_to_count_is_skipped_and_named(tmp_path, step):
    path = tmp_path / "history.jsonl"
    write(path, 2)
    with open(path, "a") as handle:
        handle.write(json.dumps({"schema_version": 1, "step": step, "train_loss": 0.5}) + "\n")
    history = load_history(path)
    assert history.steps.tolist() == [0, 10]
    assert "beyond the 9007199254740992 steps" in history.problems[0]


def test_empty_missing_and_future_histories_give_clear_errors(tmp_path):
    with pytest.raises(HistoryError, match="no history"):
        load_history(tmp_path)
    (tmp_path / "history.jsonl").write_text("")
    with pytest.raises(HistoryError, match="no evaluation records"):
        load_history(tmp_path)
    (tmp_path / "history.jsonl").write_text(json.dumps({"schema_version": 99, "step": 0}) + "\n")
    with pytest.raises(HistoryError, match="newer than this groklab"):
        load_history(tmp_path)


def test_keep_records_through_drops_later_records_and_a_cut_line(tmp_path):
    path = tmp_path / "history.jsonl"
    write(path, 6)
    with open(path, "a") as handle:
        handle.write('{"step": 6')
    assert keep_records_through(path, 25) == 3
    assert load_history(path).steps.tolist() == [0, 10, 20]
    assert not load_history(path).problems
