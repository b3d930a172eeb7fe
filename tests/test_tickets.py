"""Grokking tickets: exact-density masks, pruned weights that stay zero, controls and reuse of finished runs."""

import pytest
import torch

from groklab import api
from groklab.common.checkpoint import load_latest
from groklab.train.masks import keep_top

SHORT = ["train.steps=30", "train.checkpoint_every=10", "eval.every=10"]


def test_keep_top_keeps_exactly_the_largest_fraction_even_with_ties():
    scores = {"a": torch.tensor([[3.0, 1.0], [1.0, 1.0]]), "b": torch.tensor([[2.0, 1.0, 0.5]])}
    masks = keep_top(scores, 3 / 7)
    assert sum(int(m.sum()) for m in masks.values()) == 3
    assert masks["a"][0, 0] and masks["b"][0, 0]  # 3 and 2 are kept, then one of the tied 1s


@pytest.fixture(scope="module")
def ticket_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("tickets") / "comparison"  # its parent holds nothing else (report test)
    return api.tickets("minegishi2023_tickets", density=0.3, out=out, overrides=SHORT, show_progress=False)


def test_ticket_and_random_mask_keep_the_density_and_the_pruned_weights_stay_zero(ticket_runs):
    for name in ("ticket", "random_mask"):
        state = load_latest(ticket_runs.out / name / "checkpoints", torch.device("cpu"))["model"]
        weights = torch.cat([w.flatten() for w in state.values() if w.dim() >= 2])
        assert (weights != 0).double().mean().item() == pytest.approx(0.3, abs=1e-3), name


def test_ticket_rewinds_to_the_dense_runs_initialization(ticket_runs):
    ticket_cfg = ticket_runs.runs["ticket"].config
    assert ticket_cfg.train.mask.kind == "magnitude"
    assert ticket_cfg.train.mask.source == str((ticket_runs.out / "dense").resolve())
    dense_first = ticket_runs.runs["dense"].history.records[0]
    ticket_first = ticket_runs.runs["ticket"].history.records[0]
    assert ticket_first["param_norm"] < dense_first["param_norm"]  # same init, 70% of the weights zeroed


def test_matched_norm_control_starts_at_the_tickets_norm(ticket_runs):
    matched = ticket_runs.runs["dense_matched_norm"].history.records[0]["param_norm"]
    ticket = ticket_runs.runs["ticket"].history.records[0]["param_norm"]
    assert matched == pytest.approx(ticket, rel=1e-4)
    assert ticket_runs.runs["dense_matched_norm"].config.train.mask is None


def test_rerunning_reuses_finished_runs(ticket_runs):
    before = {n: (ticket_runs.out / n / "history.jsonl").stat().st_mtime_ns for n in api.TICKET_RUNS}
    again = api.tickets("minegishi2023_tickets", density=0.3, out=ticket_runs.out, overrides=SHORT,
                        show_progress=False)
    assert {n: (again.out / n / "history.jsonl").stat().st_mtime_ns for n in api.TICKET_RUNS} == before
    assert (again.out / "tickets.json").is_file() and again.figure.is_file()


def test_magnitude_mask_without_source_is_a_config_error(tmp_path):
    from groklab.config import ConfigError

    with pytest.raises(ConfigError, match="needs train.mask.source"):
        api.resolve("10", "quick", ["train.mask={kind: magnitude, density: 0.4}"])


def test_a_folder_holding_other_tickets_is_refused_untouched(ticket_runs):
    marker = (ticket_runs.out / "tickets.json").read_text()
    with pytest.raises(FileExistsError, match="different ticket comparison .*density 0.3.*choose another --out"):
        api.tickets("minegishi2023_tickets", density=0.5, out=ticket_runs.out, overrides=SHORT, show_progress=False)
    assert (ticket_runs.out / "tickets.json").read_text() == marker


def test_report_shows_the_comparison_as_one_section(ticket_runs, tmp_path):
    md, _ = api.report(ticket_runs.out.parent, tmp_path / "report")
    text = md.read_text()
    assert f"### Tickets {ticket_runs.out.name}" in text and "| dense_matched_norm |" in text
    assert f"### {ticket_runs.out.name}/dense" not in text  # shown once, in the comparison
