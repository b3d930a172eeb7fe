"""Status and report over real run folders, including runs that crashed before writing anything."""

import json
import re

import yaml

from groklab import api
from tests.conftest import TINY, groklab_cli


def make_runs(root):
    (root / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    groklab_cli("run", "--config", str(root / "tiny.yaml"), "--out", str(root / "runs" / "done"), "--quiet",
                check=True)
    crashed = root / "runs" / "crashed"
    crashed.mkdir(parents=True)
    (crashed / "config.yaml").write_text((root / "runs" / "done" / "config.yaml").read_text())
    (crashed / "status.json").write_text(json.dumps({"state": "failed", "error": "RuntimeError: out of memory"}))
    return root / "runs"


def test_report_has_every_run_and_embeds_its_figures(tmp_path):
    runs = make_runs(tmp_path)
    before = {p: p.read_bytes() for p in runs.rglob("*") if p.is_file()}
    proc = groklab_cli("report", str(runs), "--out", str(tmp_path / "report"), check=True)
    md = (tmp_path / "report" / "report.md").read_text()
    page = (tmp_path / "report" / "report.html").read_text()
    assert proc.stdout.splitlines()[-1].endswith("report.html")
    rows = [line for line in md.splitlines() if line.startswith("| done") or line.startswith("| crashed")]
    assert len(rows) == 2  # one summary row per run, the crashed one included
    assert "failed" in md and "no history" in md
    assert "## Executive summary" in md and "## Next steps" in md
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        assert (tmp_path / "report" / link).is_file(), link
    assert page.count("data:image/png;base64,") == 3 and "src='http" not in page  # curves, detail, grid
    assert {p: p.read_bytes() for p in runs.rglob("*") if p.is_file()} == before  # inputs untouched


def test_status_lists_each_run_with_state_and_outcome(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    runs = make_runs(tmp_path)
    rows = {r.run_dir.name: r for r in api.status(runs)}
    assert rows["done"].state.state == "completed" and rows["done"].outcome is not None
    assert rows["crashed"].state.state == "failed" and rows["crashed"].outcome is None
    proc = groklab_cli("status", str(runs), check=True)
    assert "done" in proc.stdout and "failed" in proc.stdout
    assert max(map(len, proc.stdout.splitlines())) <= 80  # fits the terminal


def test_several_seeds_of_a_preset_are_aggregated_with_a_seed_band(tmp_path):
    runs = tmp_path / "runs"
    for seed in (0, 1):
        groklab_cli("run", "03", "--seed", str(seed), "--out", str(runs / f"s{seed}"), "--quiet", "train.steps=30",
                    "eval.every=10", "eval.log_points=0", check=True)
    md, _ = api.report(runs, tmp_path / "report")
    text = md.read_text()
    assert "Seeds at quick scale: 2 runs" in text
    assert text.count("| nanda2023 v2 | quick |") == 2  # each run's row says which preset version trained it
    assert "(figures/nanda2023-quick-seeds.png)" in text
    assert (tmp_path / "report" / "figures" / "nanda2023-quick-seeds.png").is_file()


def test_a_run_is_marked_by_whether_it_reached_its_scales_expected_outcome(tmp_path):
    runs = tmp_path / "runs"
    groklab_cli("run", "levi2023_linear", "--out", str(runs / "full"), "--quiet", check=True)
    groklab_cli("run", "levi2023_linear", "--out", str(runs / "cut"), "--quiet", "train.steps=20", check=True)
    md, page = api.report(runs, tmp_path / "report")
    rows = {line.split(" | ")[0]: line for line in md.read_text().splitlines() if line.startswith("| ")}
    assert "grokked: agrees" in rows["| full"] and "grokked: differs" in rows["| cut"]
    assert "1 of 2 preset runs reached the outcome expected at their scale" in md.read_text()
    summary = page.read_text().split("id='summary'")[1].split("</table>")[0]
    assert summary.count("<td class='agrees'>grokked") == 1 and summary.count("<td class='differs'>not_learning") == 1
    next_steps = md.read_text().split("## Next steps")[1]
    assert "cut (not_learning)" in next_steps and "full" not in next_steps
