"""The CLI contract later issues and users rely on, exercised through real subprocesses."""

import json

import pytest
import yaml

from tests.conftest import groklab_cli


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    from tests.conftest import TINY

    root = tmp_path_factory.mktemp("cli")
    (root / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    proc = groklab_cli("run", "--config", str(root / "tiny.yaml"), "--out", str(root / "run"), "--quiet", check=True)
    return root / "run", proc


def test_run_prints_run_dir_last_and_writes_the_run_folder(finished_run):
    run_dir, proc = finished_run
    assert proc.stdout.strip().splitlines()[-1] == str(run_dir)
    for name in ("config.yaml", "history.jsonl", "training_history.json", "status.json", "analysis.json",
                 "figures/curves.png"):
        assert (run_dir / name).is_file(), name
    assert list((run_dir / "checkpoints").glob("step_*.pt"))
    assert json.loads((run_dir / "status.json").read_text())["state"] == "completed"
    first = json.loads((run_dir / "history.jsonl").read_text().splitlines()[0])
    assert {"step", "train_loss", "train_acc", "test_loss", "test_acc"} <= set(first)
    assert (run_dir / "figures/curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_analyze_json_has_the_contract_keys(finished_run):
    run_dir, _ = finished_run
    proc = groklab_cli("analyze", str(run_dir), "--json", check=True)
    result = json.loads(proc.stdout)
    assert {"outcome", "memorization_step", "generalization_step", "grokking_delay", "final", "diagnosis",
            "transitions", "verdict"} <= set(result)
    assert result["diagnosis"]["summary"] and result["verdict"]["status"] == "not_scored"
    assert set(result["final"]) >= {"train_loss", "train_acc", "test_loss", "test_acc"}
    assert 0.0 <= result["final"]["test_acc"] <= 1.0


def test_existing_non_empty_run_folder_is_refused(finished_run):
    run_dir, _ = finished_run
    before = (run_dir / "history.jsonl").read_bytes()
    proc = groklab_cli("run", "--config", str(run_dir / "config.yaml"), "--out", str(run_dir))
    assert proc.returncode != 0 and "never writes over a run" in proc.stderr
    assert (run_dir / "history.jsonl").read_bytes() == before


def test_saved_config_reproduces_the_run(finished_run, tmp_path):
    run_dir, _ = finished_run
    again = tmp_path / "again"
    groklab_cli("run", "--config", str(run_dir / "config.yaml"), "--out", str(again), "--quiet", check=True)
    strip = lambda p: [{k: v for k, v in json.loads(x).items() if k != "elapsed_s"} for x in p.read_text().splitlines()]  # noqa: E731
    assert strip(again / "history.jsonl") == strip(run_dir / "history.jsonl")


def test_papers_lists_presets_with_alias_and_scales():
    proc = groklab_cli("papers", check=True)
    for text in ("power2022", "nanda2023", "01", "03", "quick", "canonical", "Nanda"):
        assert text in proc.stdout
    table = groklab_cli("papers", "--markdown", check=True).stdout.splitlines()
    assert table[0].startswith("| id | alias |") and any(row.startswith("| nanda2023 | 03 |") for row in table)


def test_analyze_on_a_folder_without_history_is_a_clear_error(tmp_path):
    proc = groklab_cli("analyze", str(tmp_path))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "config.yaml" in proc.stderr or "history" in proc.stderr


def test_analyze_marks_a_partial_history_and_never_edits_it(finished_run, tmp_path):
    import shutil

    run_dir, _ = finished_run
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    with open(copy / "history.jsonl", "a") as handle:
        handle.write('{"schema_version": 1, "step": 999, "train_l')
    before = (copy / "history.jsonl").read_bytes()
    proc = groklab_cli("analyze", str(copy))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr and "cut short" in proc.stderr
    result = json.loads(groklab_cli("analyze", str(copy), "--json", check=True).stdout)
    assert result["partial"] is True and result["problems"]
    assert (copy / "history.jsonl").read_bytes() == before


def test_analyze_json_lists_slingshots_of_a_run_that_records_the_last_layer_norm(tmp_path):
    """A real run recording the last-layer norm, then its history rewritten (by groklab's own writer) with two
    Slingshot cycles at steps 300 and 730: `analyze --json` lists both with their fields."""
    from groklab.history.writer import HistoryWriter
    from tests.conftest import TINY
    from tests.test_slingshot import two_cycles

    config = {**TINY, "optim": {"name": "adam", "lr": 3e-3, "weight_decay": 0.0},
              "eval": {"every": 5, "log_points": 0, "probes": ["last_layer_norm"]}}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(config))
    run_dir = tmp_path / "run"
    groklab_cli("run", "--config", str(run_dir.with_name("tiny.yaml")), "--out", str(run_dir), "--quiet", check=True)
    records = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    assert records and all(r["last_layer_norm"] > 0 for r in records)
    assert (run_dir / "figures" / "probes.png").is_file()
    (run_dir / "history.jsonl").unlink()
    with HistoryWriter(run_dir / "history.jsonl") as writer:
        for i, (loss, norm) in enumerate(zip(*two_cycles(), strict=True)):
            writer.write({**records[-1], "step": 10 * i, "train_loss": float(loss), "last_layer_norm": float(norm)})
    data = json.loads(groklab_cli("analyze", str(run_dir), "--json", check=True).stdout)
    assert [c["spike_step"] for c in data["slingshots"]] == [300, 730], data["slingshots"]
    assert all({"spike_step", "peak_loss", "norm_growth", "plateau", "test_jump"} <= set(c) for c in data["slingshots"])
    assert all(c["norm_growth"] > 0 and c["plateau"] for c in data["slingshots"])


def test_human_output_holds_no_python_reprs(finished_run, tmp_path):
    run_dir, ran = finished_run
    outputs = {"run": ran.stdout, **{command: groklab_cli(*args, check=True).stdout for command, args in {
        "analyze": ("analyze", str(run_dir)), "status": ("status", str(run_dir)), "show": ("show", "nanda2023"),
        "analyze of an imported log": ("analyze", str(_imported(tmp_path)))}.items()}}
    for command, text in outputs.items():
        for repr_mark in ("None", "{'", "[(", "(('"):
            assert repr_mark not in text, (command, repr_mark, text)
    assert "memorization step" in outputs["analyze"] and "final" in outputs["analyze"]


def _imported(tmp_path):
    (tmp_path / "log.csv").write_text("step,train_loss,train_acc,val_loss,val_acc\n0,3,0.1,3,0.05\n100,0.1,1,2,0.2\n")
    groklab_cli("import", "csv", str(tmp_path / "log.csv"), "--out", str(tmp_path / "imported"), check=True)
    return tmp_path / "imported"
