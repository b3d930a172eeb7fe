"""The scorecard: claims as data decided on real runs over seeds (pending until the runs are there, holds or fails
by the claim's bound on the median, a measure the runs lack said so), one plan that trains each run once and
reuses it, and the command that lists, trains and writes scorecard.md / scorecard.json."""

from __future__ import annotations

import json
import math

import pytest

from groklab.claims import Arm, Claim, Fact, Ratio, StepsTo, at_least, at_most, format_value, within
from groklab.launch.executor import Local
from groklab.launch.plan import Plan, execute
from groklab.presets import presets
from groklab.resolve import get_preset
from groklab.studies.scorecard import chosen_claims, decide_claims, scorecard, scorecard_stages
from tests.conftest import groklab_cli

SHORT = ("train.steps=120",)
BASE, MORE_DATA = Arm("quick", SHORT), Arm("quick", (*SHORT, "task.n_train=1000"))


def claim(key: str, measure, bound, arms=None) -> Claim:
    return Claim(key, f"statement {key}", "Fig. 0", "a number", measure, bound, arms or {"base": BASE})


CLAIMS = [
    claim("memorizes_early", StepsTo("base", 0.95, "train_acc"), at_most(100)),
    claim("generalizes_at_once", StepsTo("base", 0.95), at_most(5)),
    claim("reaches_the_impossible", StepsTo("base", 2.0), at_most(1000)),
    claim("has_a_fact_it_lacks", Fact("base", "no_such_fact"), at_least(0)),
    claim("more_data_is_faster", Ratio(StepsTo("more", 0.95), StepsTo("base", 0.95)), within(0.5, 2.0),
          {"base": BASE, "more": MORE_DATA}),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two seeds of the claims' two arms (levi2023_linear, 120 steps), through the scorecard's plan."""
    out = tmp_path_factory.mktemp("scorecard")
    claims = [(get_preset("levi2023_linear"), c) for c in CLAIMS]
    before = decide_claims(claims, out, seeds=2)
    stages = scorecard_stages(claims, out, seeds=2)
    jobs = stages[0].jobs
    first = execute(Plan("scorecard", stages), Local(1), lambda line: None)
    again = execute(Plan("scorecard", scorecard_stages(claims, out, seeds=2)), Local(1), lambda line: None)
    return out, jobs, before, first, again, decide_claims(claims, out, seeds=2)


def test_each_run_a_claim_reads_is_trained_once_and_reused(trained):
    out, jobs, _, first, again, _ = trained
    assert sorted(str(job.run_dir.relative_to(out)) for job in jobs) == [
        f"levi2023_linear/{arm.name}/seed{seed}" for arm in (BASE, MORE_DATA) for seed in (0, 1)]
    assert all(job.stackable for job in jobs)  # an arm's seeds may train as one batched computation
    assert [job.cfg.seed for job in jobs if job.run_dir.parent.name == BASE.name] == [0, 1]
    assert not first.failed and set(again.outcomes.values()) == {"finished"}


def test_claims_are_pending_until_their_runs_exist(trained):
    before = trained[2]
    assert [r.status for r in before] == ["pending"] * len(CLAIMS)
    assert before[0].reason == "2 of its runs not finished" and before[-1].reason == "4 of its runs not finished"


def test_a_claim_waiting_for_a_seed_shows_the_finished_seeds_values(trained):
    out = trained[0]
    claims = [(get_preset("levi2023_linear"), c) for c in CLAIMS[:1]]
    (partial,) = decide_claims(claims, out, seeds=3)  # seeds 0 and 1 trained, seed 2 not
    (full,) = decide_claims(claims, out, seeds=2)
    assert partial.status == "pending" and partial.values == full.values
    assert partial.reason == f"1 of its runs not finished; 2 of 3 seeds finished, median so far " \
                             f"{format_value(full.median)}"


def test_a_claim_holds_or_fails_by_its_bound_on_the_median_over_seeds(trained):
    results = {r.claim.key: r for r in trained[-1]}
    memorizes = results["memorizes_early"]
    assert memorizes.status == "holds" and len(memorizes.values) == 2
    assert memorizes.reason == f"median {format_value(memorizes.median)} within <= 100"
    assert results["generalizes_at_once"].status == "fails" and "outside <= 5" in results["generalizes_at_once"].reason
    impossible = results["reaches_the_impossible"]
    assert impossible.values == (math.inf, math.inf) and impossible.reason == "median never outside <= 1000"
    lacking = results["has_a_fact_it_lacks"]
    assert lacking.status == "fails"
    assert lacking.reason.startswith("not measurable on 2 of 2 seeds: no_such_fact (base)")


def test_a_ratio_is_measured_on_each_seeds_own_runs(trained):
    from groklab.run.analysis import analyze

    out, results = trained[0], {r.claim.key: r for r in trained[-1]}
    expected = []
    for seed in (0, 1):
        runs = {name: analyze(out / "levi2023_linear" / arm.name / f"seed{seed}", write=False)
                for name, arm in (("base", BASE), ("more", MORE_DATA))}
        expected.append(StepsTo("more", 0.95)(runs) / StepsTo("base", 0.95)(runs))
    assert results["more_data_is_faster"].values == tuple(expected)
    assert len(results["more_data_is_faster"].run_dirs) == 4


def test_every_preset_states_its_claims_with_runs_of_its_own_scales(tmp_path):
    for preset in presets():
        assert preset.claims, f"{preset.id} states no claim"
        keys = [c.key for c in preset.claims]
        assert len(keys) == len(set(keys)), f"{preset.id}: two claims share a key"
        for c in preset.claims:
            assert c.statement and c.source and c.paper, f"{preset.id}:{c.key} lacks its statement or source"
            for arm in c.arms.values():
                assert arm.scale in preset.scales, f"{preset.id}:{c.key} reads unknown scale {arm.scale}"
        scorecard_stages([(preset, c) for c in preset.claims], tmp_path / preset.id, 1)  # every arm resolves


def test_an_unknown_claim_is_refused_naming_the_list(tmp_path):
    with pytest.raises(Exception, match="no claim named nope: `groklab scorecard --list` lists them"):
        chosen_claims(presets(), ["nope"])
    proc = groklab_cli("scorecard", "--claim", "nope", "--out", str(tmp_path / "s"))
    assert proc.returncode == 2 and "no claim named nope" in proc.stderr and not (tmp_path / "s").exists()


def test_the_command_lists_the_claims_and_writes_the_scorecard(tmp_path):
    listed = groklab_cli("scorecard", "levi2023_linear", "--list", check=True)
    first = get_preset("levi2023_linear").claims[0]
    assert f"levi2023_linear:{first.key}  {first.statement}" in listed.stdout
    out = tmp_path / "card"
    result = scorecard(["levi2023_linear"], out, seeds=1, keys=[first.key], train=False, report_line=print)
    assert [(r.claim.key, r.status) for r in result.results] == [(first.key, "pending")]
    card = json.loads((out / "scorecard.json").read_text())
    assert card["seeds"] == 1 and card["claims"][0]["status"] == "pending"
    markdown = (out / "scorecard.md").read_text()
    assert "# Replication scorecard" in markdown and first.statement in markdown
    decided = groklab_cli("scorecard", "levi2023_linear", "--seeds", "1", "--claim", first.key, "--no-train",
                          "--out", str(out), check=True)
    assert "pending" in decided.stdout and f"scorecard: {out / 'scorecard.md'}" in decided.stdout


def test_a_run_that_decides_claims_gets_their_statuses_as_its_verdict(trained, monkeypatch):
    """A run whose setting is the arm of single-run claims of its preset is judged by them: holds only when every
    one holds, and the reason names each."""
    import dataclasses

    import groklab.run.claims_verdict as claims_verdict
    from groklab.run.analysis import analyze

    out = trained[0]
    preset = get_preset("levi2023_linear")
    quick = [c.on({"base": c.arms["base"]}, "these tests' claims") for c in CLAIMS[:2]]  # memorizes, generalizes
    monkeypatch.setattr(claims_verdict, "get_preset", lambda _: dataclasses.replace(preset, quick_claims=tuple(quick)))
    run = analyze(out / "levi2023_linear" / BASE.name / "seed0", write=False)
    assert run.verdict.status == "fails", run.verdict  # memorizes early holds, generalizes at once does not
    assert run.verdict.reason.startswith("1 of 2 claims hold: memorizes_early holds (median ")
    assert "generalizes_at_once fails (median" in run.verdict.reason
    other = analyze(out / "levi2023_linear" / MORE_DATA.name / "seed0", write=False)  # another setting: no claim
    assert other.verdict.status == "not_scored"


def test_the_report_shows_the_scorecard_first(trained, tmp_path):
    from groklab.studies.report import report

    out = trained[0]
    scorecard(["levi2023_linear"], out, seeds=2, train=False, report_line=lambda line: None)
    markdown, page = report(out, tmp_path / "report")
    text = markdown.read_text()
    first = get_preset("levi2023_linear").claims[0]
    assert text.index("## Replication scorecard") < text.index("## Executive summary")
    assert first.statement in text and "pending: 6 of its runs not finished" in text
    assert "The quick scale decides claims delay_follows_eq_12" in text
    (out / "scorecard.json").write_text("{not json")
    broken = report(out, tmp_path / "again")[0].read_text()
    assert f"{out / 'scorecard.json'} cannot be read (JSONDecodeError" in broken


def test_evidence_copies_the_runs_and_keeps_each_rows_provenance_across_commands(trained, tmp_path):
    from groklab.studies.scorecard import ScorecardResult, export_evidence

    out, results = trained[0], trained[-1]
    card = tmp_path / "card.json"
    card.write_text('{"seeds": 2}')
    dest = tmp_path / "evidence"
    export_evidence(ScorecardResult(out, results[:1], None, (tmp_path / "card.md", card)), dest, "first", "abc1")
    (dest / "findings.md").write_text("## Findings\n\nmeasured, not guessed.\n")
    export_evidence(ScorecardResult(out, results[1:2], None, (tmp_path / "card.md", card)), dest, "second", "def2")
    claims = json.loads((dest / "scorecard.json").read_text())["claims"]
    assert [(c["claim"], c["provenance"]["command"], c["provenance"]["seeds"]) for c in claims] == [
        ("memorizes_early", "first", 2), ("generalizes_at_once", "second", 2)]
    assert claims[0]["runs"] == [f"levi2023_linear/{BASE.name}/seed0", f"levi2023_linear/{BASE.name}/seed1"]
    run = dest / "levi2023_linear" / BASE.name / "seed0"
    assert {"config.yaml", "status.json", "analysis.json", "history.jsonl"} <= {f.name for f in run.iterdir()}
    assert len((run / "history.jsonl").read_text().splitlines()) > 10
    markdown = (dest / "scorecard.md").read_text()
    assert "`second` at def2" in markdown and markdown.rstrip().endswith("measured, not guessed.")
