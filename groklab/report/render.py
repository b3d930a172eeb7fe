"""The status report's content: the runs, studies and papers it covers (ReportData) as one document."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groklab.analysis import OUTCOMES
from groklab.common.files import write_atomic
from groklab.presets import expected_outcome
from groklab.report.describe import describe_run
from groklab.report.document import Block, Figure, Heading, Items, Paragraph, Table, to_html, to_markdown


@dataclass(frozen=True)
class RunEntry:
    """One run as the report shows it; `result` is None when the run has no readable history yet."""

    name: str
    run_dir: Path
    state: str
    note: str
    result: object | None  # api.RunAnalysis (kept untyped here: the report does not import the API)
    figures: tuple[Path, ...]
    problem: str | None = None


@dataclass(frozen=True)
class SweepEntry:
    """One study (a sweep, or a ticket comparison) as the report shows it: what it asks, a table of its
    runs, findings and figures."""

    name: str
    question: str
    header: list[str]
    rows: list[list[str]]
    findings: list[str]
    figures: tuple[Path, ...]
    kind: str = "Sweep"


@dataclass(frozen=True)
class PaperSection:
    preset: str
    title: str
    citation: str
    reported: str
    runs: list[RunEntry]
    seeds: dict = field(default_factory=dict)  # analysis.aggregate over completed runs per scale
    seed_figures: tuple[Path, ...] = ()
    sweeps: list[SweepEntry] = field(default_factory=list)
    fidelity: str = ""  # how the preset was checked against the paper's own code (docs/fidelity.md)
    quick: str = ""  # what its quick scale shows of the paper (the claims it decides)


@dataclass(frozen=True)
class ReportData:
    source: Path
    runs: list[RunEntry]
    papers: list[PaperSection]
    comparison: Path | None
    across_presets: list[SweepEntry] = field(default_factory=list)  # studies over many presets (accelerators)
    scorecard: list[Block] = field(default_factory=list)  # the replication scorecards found (shown first)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _summary_rows(data: ReportData) -> list[list[str]]:
    rows = []
    for run in data.runs:
        r = run.result
        if r is None:
            rows.append([run.name, "-", "-", run.state, "-", "-", "-", "-", "-", "-", "-"])
            continue
        a, final = r.analysis, r.analysis.final
        version = r.config.preset_version if r.config is not None else None
        preset = f"{r.preset} v{version}" if r.preset and version is not None else r.preset or "-"
        rows.append([run.name, preset, r.scale or "-", run.state, str(final["step"]),
                     _pct(final["train_acc"]), _pct(final["test_acc"]), a.outcome, _expected(r),
                     str(a.generalization_step) if a.generalization_step is not None else "-", r.verdict.status])
    return rows


def _agrees(result: Any) -> bool | None:
    """Whether the run reached the outcome its preset scale should reach (None without an expectation)."""
    expected = expected_outcome(result.preset, result.scale)
    return None if expected is None else result.analysis.outcome == expected


def _expected(result: Any) -> str:
    """The outcome the run's preset scale should reach and whether the run did ('-' without one)."""
    expected = expected_outcome(result.preset, result.scale)
    return "-" if expected is None else f"{expected}: {'agrees' if result.analysis.outcome == expected else 'differs'}"


def _summary_classes(rows: list[list[str]]) -> list[list[str]]:
    """CSS classes of the summary cells: a run's outcome is coloured by whether it is what its scale should
    reach (its 'expected at its scale' cell: a quick scale expected to memorize is green when it does), by the
    outcome itself without an expectation."""
    agreement = {"agrees": "agrees", "differs": "differs"}
    return [[*row[:7], agreement.get(row[8].rpartition(": ")[2], row[7]), *row[8:]] for row in rows]


SUMMARY_HEADER = ["run", "preset", "scale", "state", "step", "train acc", "test acc", "outcome",
                  "expected at its scale", "generalization step", "verdict"]


def _counts(data: ReportData) -> tuple[dict[str, int], dict[str, int]]:
    outcomes = {o: 0 for o in OUTCOMES}
    states: dict[str, int] = {}
    for run in data.runs:
        if run.result is not None:
            outcomes[run.result.analysis.outcome] += 1
        states[run.state] = states.get(run.state, 0) + 1
    return {k: v for k, v in outcomes.items() if v}, states


def _agreement_line(data: ReportData) -> str:
    """How many preset runs reached the outcome their scale should reach."""
    verdicts = [_agrees(run.result) for run in data.runs if run.result is not None]
    scored = [v for v in verdicts if v is not None]
    if not scored:
        return "No run has an expected outcome to compare with (custom configs, imports or other scales)."
    return (f"{sum(scored)} of {len(scored)} preset runs reached the outcome expected at their scale"
            + ("." if all(scored) else "; the others are marked 'differs' in the summary table."))


def _next_steps(data: ReportData) -> list[str]:
    steps = []
    for run in data.runs:
        if run.result is None:
            steps.append(f"{run.name}: {run.problem or 'no history yet'}")
        elif run.result.analysis.outcome not in ("grokked", "generalized") and not _agrees(run.result):
            steps.append(f"{run.name} ({run.result.analysis.outcome}): {run.result.diagnosis.suggestions[0]}")
        elif run.note:
            steps.append(f"{run.name}: {run.note}")
    return steps


def _paper_line(paper: PaperSection) -> str:
    if not paper.citation:
        return "Custom configs and imported logs: no paper outcome to compare with."
    fidelity = f" Fidelity: {paper.fidelity}" if paper.fidelity else ""
    quick = f" {paper.quick}" if paper.quick else ""
    return f"{paper.citation}. Reported: {paper.reported}.{fidelity}{quick}"


def _study_blocks(study: SweepEntry, level: int) -> list[Block]:
    """A study's heading, findings, figures and table."""
    return [Heading(level, f"{study.kind} {study.name}: {study.question}"), Items(study.findings),
            *(Figure(figure, study.name) for figure in study.figures), Table(study.header, study.rows)]


def _seeds_line(scale: str, agg: dict) -> str:
    return (f"Seeds at {scale} scale: {agg['runs']} runs, outcomes {agg['outcomes']}, generalization step median "
            f"{agg['generalization_step_median']} (range {agg['generalization_step_min']}"
            f"–{agg['generalization_step_max']})")


def _run_blocks(run: RunEntry) -> list[Block]:
    if run.result is None:
        facts: list[tuple[str, str]] = [("state", run.state), ("problem", run.problem or "no history yet")]
    else:
        facts = describe_run(run.result, run.note)
    return [Heading(3, run.name), Items(facts), *(Figure(figure, run.name) for figure in run.figures)]


def report_document(data: ReportData) -> list[Block]:
    """The whole report: the replication scorecards, summary, studies across presets, then one section per paper,
    then next steps."""
    outcomes, states = _counts(data)
    summary = _summary_rows(data)
    blocks: list[Block] = [
        Heading(1, "groklab status report"),
        Paragraph(f"Generated {time.strftime('%Y-%m-%d %H:%M')} from {data.source}: {len(data.runs)} runs."),
        *data.scorecard,
        Heading(2, "Executive summary"),
        Table(("outcome", "runs"), [(k, str(v)) for k, v in outcomes.items()]),
        Paragraph("States: " + ", ".join(f"{k} {v}" for k, v in states.items())),
        Paragraph(_agreement_line(data)),
        Heading(2, "Summary table"),
        Table(SUMMARY_HEADER, summary, _summary_classes(summary), "summary"),
    ]
    if data.comparison:
        blocks.append(Figure(data.comparison, "all runs"))
    for study in data.across_presets:
        blocks += _study_blocks(study, 2)
    for paper in data.papers:
        blocks += [Heading(2, f"{paper.preset}: {paper.title}"), Paragraph(_paper_line(paper))]
        blocks += [Paragraph(_seeds_line(scale, agg)) for scale, agg in paper.seeds.items()]
        blocks += [Figure(figure, f"{paper.preset} seeds") for figure in paper.seed_figures]
        for sweep in paper.sweeps:
            blocks += _study_blocks(sweep, 3)
        for run in paper.runs:
            blocks += _run_blocks(run)
    return blocks + [Heading(2, "Next steps"), Items(_next_steps(data) or ["nothing pending"])]


def write_report(data: ReportData, out: Path) -> tuple[Path, Path]:
    """report.md (figures linked relative to `out`) and the self-contained report.html, from one document."""
    blocks = report_document(data)
    md, page = out / "report.md", out / "report.html"
    write_atomic(md, to_markdown(blocks, lambda path: str(path.relative_to(out))))
    write_atomic(page, to_html(blocks, "groklab status report"))
    return md, page
