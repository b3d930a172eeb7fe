"""Importers, on logs written by the real libraries inside the tests (not hand-typed imitations)."""

import json

import numpy as np
import pytest

from groklab import api
from tests.conftest import groklab_cli

STEPS = [int(s) for s in np.unique(np.geomspace(1, 10_000, 40).astype(int))]


def curve(step, center):
    return float(1 / (1 + np.exp(-8 * (np.log10(step) - np.log10(center)))))


def grokking_point(step):
    """A grokking run: train accuracy rises near step 100, test accuracy near step 3000."""
    train_acc, test_acc = 0.01 + 0.99 * curve(step, 100), 0.01 + 0.99 * curve(step, 3000)
    return {"train_acc": train_acc, "test_acc": test_acc, "train_loss": 4.6 * (1 - train_acc) + 1e-3,
            "test_loss": 4.6 * (1 - test_acc) + 1e-3}


def imported(tmp_path, fmt, path, *maps):
    out = tmp_path / f"imported-{fmt}"
    args = ["import", fmt, str(path), "--out", str(out)] + [a for m in maps for a in ("--map", m)]
    proc = groklab_cli(*args, check=True)
    assert proc.stdout.strip().splitlines()[-1] == str(out)
    return out, api.analyze(out)


def test_lightning_csv_logger_with_openai_grok_metric_names_in_percent(tmp_path):
    from pytorch_lightning.loggers import CSVLogger

    logger = CSVLogger(save_dir=str(tmp_path), name="lightning_logs")
    logger.log_hyperparams({"math_operator": "/", "train_data_pct": 50})
    for step in STEPS:
        p = grokking_point(step)
        logger.log_metrics({"full_train_loss": p["train_loss"], "full_train_acc": 100 * p["train_acc"]}, step=step)
        logger.log_metrics({"val_loss": p["test_loss"], "val_accuracy": 100 * p["test_acc"]}, step=step)
    logger.save()
    logger.finalize("success")
    version = tmp_path / "lightning_logs" / "version_0"
    assert (version / "metrics.csv").is_file()
    out, result = imported(tmp_path, "lightning", version)
    source = json.loads((out / "source.json").read_text())
    assert sorted(source["converted_from_percent"]) == ["test_acc", "train_acc"]
    assert source["config"]["math_operator"] == "/"
    assert result.analysis.outcome == "grokked" and 0 <= result.analysis.final["test_acc"] <= 1
    assert len(result.analysis.transitions) == 1


def test_sacred_file_storage_observer_run(tmp_path):
    from sacred import Experiment
    from sacred.observers import FileStorageObserver

    ex = Experiment("toy_addition", interactive=True)
    ex.observers.append(FileStorageObserver(str(tmp_path / "sacred")))

    @ex.config
    def config():
        p = 10  # noqa: F841
        train_num = 45  # noqa: F841

    @ex.main
    def main(_run):
        for step in STEPS:
            for name, value in grokking_point(step).items():
                _run.log_scalar(name, value, step)

    ex.run()
    run_dir = tmp_path / "sacred" / "1"
    assert {"metrics.json", "run.json", "config.json"} <= {p.name for p in run_dir.iterdir()}
    out, result = imported(tmp_path, "sacred", run_dir)
    assert result.analysis.outcome == "grokked" and result.state == "completed"
    assert json.loads((out / "source.json").read_text())["config"]["p"] == 10


def test_tensorboard_events_with_danielmamay_tags(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(tmp_path / "tb"))
    for step in STEPS:
        p = grokking_point(step)
        writer.add_scalar("training/accuracy", p["train_acc"], step)
        writer.add_scalar("training/loss", p["train_loss"], step)
        writer.add_scalar("validation/accuracy", p["test_acc"], step)
        writer.add_scalar("validation/loss", p["test_loss"], step)
    writer.close()
    _, result = imported(tmp_path, "tensorboard", tmp_path / "tb")
    assert result.analysis.outcome == "grokked"
    assert result.analysis.final["step"] == STEPS[-1]
    again = groklab_cli("import", "tensorboard", str(tmp_path / "tb"), "--out", str(tmp_path / "again"), check=True)
    assert "No path found" not in again.stderr and again.stderr.strip() == ""  # TensorBoard's INFO lines stay out
    verbose = groklab_cli("--verbose", "import", "tensorboard", str(tmp_path / "tb"), "--out", str(tmp_path / "v"))
    assert verbose.returncode == 0 and "INFO" in verbose.stderr


def test_generic_csv_and_json_with_a_column_mapping(tmp_path):
    import csv

    with open(tmp_path / "log.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["iteration", "acc", "val_accuracy_pct", "loss", "vloss"])
        for step in STEPS:
            p = grokking_point(step)
            writer.writerow([step, p["train_acc"], 100 * p["test_acc"], p["train_loss"], p["test_loss"]])
    _, from_csv = imported(tmp_path, "csv", tmp_path / "log.csv", "train_acc=acc", "test_acc=val_accuracy_pct",
                           "train_loss=loss", "test_loss=vloss")
    columns = {"its": STEPS, **{k: [grokking_point(s)[k] for s in STEPS] for k in grokking_point(1)}}
    (tmp_path / "log.json").write_text(json.dumps(columns))
    _, from_json = imported(tmp_path, "json", tmp_path / "log.json")
    assert from_csv.analysis.outcome == from_json.analysis.outcome == "grokked"
    assert from_csv.analysis.final["test_acc"] == pytest.approx(from_json.analysis.final["test_acc"])


@pytest.mark.parametrize("names", [
    ("Step", "training.accuracy", "training.loss", "validation.accuracy", "validation.loss"),
    ("trainer/global_step", "train/acc", "train/loss", "eval/accuracy", "eval/loss"),
    ("iteration", "trainAccuracy", "trainLoss", "valAccuracy", "valLoss"),
    ("epoch", "Train Accuracy (%)", "Train Loss", "Test Accuracy (%)", "Test Loss"),
])
def test_common_spellings_of_the_metrics_need_no_mapping(tmp_path, names):
    import csv

    with open(tmp_path / "log.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for step in STEPS:  # accuracies in percent: converted, and the conversion recorded
            p = grokking_point(step)
            writer.writerow([step, 100 * p["train_acc"], p["train_loss"], 100 * p["test_acc"], p["test_loss"]])
    run_dir, result = imported(tmp_path, "csv", tmp_path / "log.csv")
    source = json.loads((run_dir / "source.json").read_text())
    assert source["columns"] == dict(zip(("step", "train_acc", "train_loss", "test_acc", "test_loss"), names,
                                         strict=True))
    assert sorted(source["converted_from_percent"]) == ["test_acc", "train_acc"]
    assert result.analysis.outcome == "grokked" and result.analysis.final["test_acc"] <= 1


def test_two_columns_spelling_one_metric_are_named_not_guessed(tmp_path):
    (tmp_path / "log.csv").write_text("step,Train Loss,training.loss,train_acc,test_loss,test_acc\n1,1,1,0.5,1,0.5\n")
    proc = groklab_cli("import", "csv", str(tmp_path / "log.csv"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "Train Loss, training.loss could each be train_loss" in proc.stderr


def test_missing_columns_are_listed_and_nothing_is_written(tmp_path):
    (tmp_path / "log.csv").write_text("iteration,acc\n1,0.5\n")
    before = (tmp_path / "log.csv").read_bytes()
    proc = groklab_cli("import", "csv", str(tmp_path / "log.csv"), "--out", str(tmp_path / "out"))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "no column for" in proc.stderr and "Found: iteration, acc" in proc.stderr and "--map" in proc.stderr
    assert not (tmp_path / "out").exists() and (tmp_path / "log.csv").read_bytes() == before


def test_unknown_format_suggests(tmp_path):
    proc = groklab_cli("import", "lightnig", str(tmp_path), "--out", str(tmp_path / "out"))
    assert proc.returncode != 0 and "Did you mean: lightning" in proc.stderr


def test_imported_runs_appear_in_status_and_report(tmp_path, monkeypatch):
    from torch.utils.tensorboard import SummaryWriter

    columns = {"step": STEPS, **{k: [grokking_point(s)[k] for s in STEPS] for k in grokking_point(1)}}
    (tmp_path / "log.json").write_text(json.dumps(columns))
    groklab_cli("import", "json", str(tmp_path / "log.json"), "--out", str(tmp_path / "runs" / "a"), check=True)
    with SummaryWriter(log_dir=str(tmp_path / "tb")) as writer:
        for step in STEPS:
            for tag, name in (("training/accuracy", "train_acc"), ("validation/accuracy", "test_acc"),
                              ("training/loss", "train_loss"), ("validation/loss", "test_loss")):
                writer.add_scalar(tag, grokking_point(step)[name], step)
    groklab_cli("import", "tensorboard", str(tmp_path / "tb"), "--out", str(tmp_path / "runs" / "b"), check=True)
    rows = api.status(tmp_path / "runs")
    assert [(r.preset, r.state.state, r.outcome) for r in rows] == [("json", "imported", "grokked"),
                                                                     ("tensorboard", "imported", "grokked")]
    assert all(r.state.step == STEPS[-1] and r.state.test_acc == pytest.approx(grokking_point(STEPS[-1])["test_acc"])
               for r in rows)
    monkeypatch.setenv("COLUMNS", "80")
    lines = groklab_cli("status", str(tmp_path / "runs"), check=True).stdout.splitlines()
    assert max(map(len, lines)) <= 80 and lines[2].split()[:3] == ["b", "tensorboard", "imported"]
    final = grokking_point(STEPS[-1])
    assert lines[2].split()[-3:] == [f"{final['train_acc']:.1%}", f"{final['test_acc']:.1%}", "grokked"]
    md, _ = api.report(tmp_path / "runs", tmp_path / "report")
    assert "imported json log" in md.read_text()


def test_tensorboard_mirror_holds_the_same_records_as_the_history(tmp_path):
    import yaml

    from groklab.history import load_history
    from tests.conftest import TINY

    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    run_dir = tmp_path / "run"
    groklab_cli("run", "--config", str(tmp_path / "tiny.yaml"), "--out", str(run_dir), "--quiet", "--tensorboard",
                check=True)
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    out, _ = imported(tmp_path, "tensorboard", run_dir / "tensorboard")
    original, mirrored = load_history(run_dir), load_history(out)
    assert mirrored.steps.tolist() == original.steps.tolist()
    for name in ("train_loss", "train_acc", "test_loss", "test_acc"):  # float32 in the event file
        assert np.allclose(mirrored.column(name), original.column(name), rtol=1e-6)
