"""Markdown and self-contained HTML status reports, rendered from the same ReportData."""

from __future__ import annotations

import base64
import html
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groklab.analysis import OUTCOMES
from groklab.presets import expected_outcome


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


@dataclass(frozen=True)
class ReportData:
    source: Path
    runs: list[RunEntry]
    papers: list[PaperSection]
    comparison: Path | None
    across_presets: list[SweepEntry] = field(default_factory=list)  # studies over many presets (accelerators)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _loss(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"  # None: the history has no value of it (a damaged record)


def format_fact(value: object) -> str:
    """A signature value for reading: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


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
    return f"{paper.citation}. Reported: {paper.reported}.{fidelity}"


FLOAT32_RESOLUTION = 1.2e-7  # float32 epsilon: a softmax cannot resolve a per-sample loss much below it


def _run_lines(run: RunEntry) -> list[tuple[str, str]]:
    """(label, text) pairs describing one run."""
    if run.result is None:
        return [("state", run.state), ("problem", run.problem or "no history yet")]
    r, a = run.result, run.result.analysis
    cfg = r.config
    if cfg is None:
        setup = ("source", f"imported {r.source['format']} log {r.source['path']}")
    else:
        setup = ("config", f"task {cfg.task.describe()}; "
                 f"{cfg.model.name}; {cfg.optim.name} lr {cfg.optim.lr:g} weight decay {cfg.optim.weight_decay:g}; "
                 f"{cfg.train.steps} steps, seed {cfg.seed}")
    lines = [
        setup,
        ("state", run.state + (f" ({run.note})" if run.note else "")),
        ("final", f"train loss {_loss(a.final['train_loss'])}, accuracy {_pct(a.final['train_acc'])}; test loss "
                  f"{_loss(a.final['test_loss'])}, accuracy {_pct(a.final['test_acc'])} at step {a.final['step']}"),
        ("outcome", f"{a.outcome}: memorization step {a.memorization_step}, generalization step "
                    f"{a.generalization_step}, delay {a.grokking_delay}"),
        ("transitions", ", ".join(f"{t['start_step']}→{t['end_step']} ({_pct(t['from_acc'])}→{_pct(t['to_acc'])})"
                                  for t in a.transitions) or "none"),
        ("diagnosis", r.diagnosis.summary),
        *[("evidence", e) for e in r.diagnosis.evidence],
        *[("next step", s) for s in r.diagnosis.suggestions],
        ("verdict", f"{r.verdict.status}: {r.verdict.reason}"),
    ]
    if a.slingshots is not None:
        lines.append(("slingshots", f"{len(a.slingshots)} cycles" + "".join(
            f"; spike at step {c['spike_step']} (loss {c['baseline_loss']:.2g} → {c['peak_loss']:.2g}, norm +"
            f"{c['norm_growth']:.1%} before, {'plateau' if c['plateau'] else 'no plateau'} after"
            f"{', with a test-accuracy jump' if c['test_jump'] else ''})" for c in a.slingshots)))
        if cfg is not None and cfg.train.loss_dtype != "float64" and any(
                c["baseline_loss"] < FLOAT32_RESOLUTION for c in a.slingshots):
            lines.append(("slingshot caveat", f"spikes start from a training loss below {cfg.train.loss_dtype}'s "
                          "resolution of a softmax: they may be softmax collapse (Prieto et al. 2025) rather than "
                          "Adam's Slingshot; rerun with train.loss_dtype=float64 to tell them apart (the "
                          "thilak2022_slingshot quick run has 4 cycles in float32 and none in float64)"))
    if r.signature:
        lines.append(("signature", ", ".join(f"{k} {format_fact(v)}" for k, v in r.signature.items())))
    if a.problems:  # what the history lacked or had set right, and what the figures could not draw
        lines.append(("partial" if a.partial else "notes", "; ".join(a.problems)))
    return lines


def _markdown_study(study: SweepEntry, figure_link: Callable[[Path], str]) -> list[str]:
    """A study's findings, figures and table as Markdown lines."""
    out = [f"- {finding}" for finding in study.findings]
    out += [f"\n![{study.name}]({figure_link(figure)})" for figure in study.figures]
    out += ["", "| " + " | ".join(study.header) + " |", "|" + "---|" * len(study.header)]
    return out + ["| " + " | ".join(row) + " |" for row in study.rows]


def render_markdown(data: ReportData, figure_link: Callable[[Path], str]) -> str:
    """The report as Markdown; `figure_link` maps a figure path to the link written in the page."""
    outcomes, states = _counts(data)
    out = [f"# groklab status report\n\nGenerated {time.strftime('%Y-%m-%d %H:%M')} from `{data.source}`: "
           f"{len(data.runs)} runs.\n", "## Executive summary\n", "| outcome | runs |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in outcomes.items()]
    out += ["", "States: " + ", ".join(f"{k} {v}" for k, v in states.items()), "", _agreement_line(data) + "\n",
            "## Summary table\n"]
    out += ["| " + " | ".join(SUMMARY_HEADER) + " |", "|" + "---|" * len(SUMMARY_HEADER)]
    out += ["| " + " | ".join(row) + " |" for row in _summary_rows(data)]
    if data.comparison:
        out += ["", f"![all runs]({figure_link(data.comparison)})"]
    for study in data.across_presets:
        out += ["", f"## {study.kind} {study.name}: {study.question}", ""] + _markdown_study(study, figure_link)
    for paper in data.papers:
        out += ["", f"## {paper.preset}: {paper.title}", "", _paper_line(paper)]
        for scale, agg in paper.seeds.items():
            out.append(f"\nSeeds at {scale} scale: {agg['runs']} runs, outcomes {agg['outcomes']}, generalization "
                       f"step median {agg['generalization_step_median']} (range {agg['generalization_step_min']}"
                       f"–{agg['generalization_step_max']})")
        out += [f"\n![{paper.preset} seeds]({figure_link(figure)})" for figure in paper.seed_figures]
        for sweep in paper.sweeps:
            out += ["", f"### {sweep.kind} {sweep.name}: {sweep.question}", ""] + _markdown_study(sweep, figure_link)
        for run in paper.runs:
            out += ["", f"### {run.name}", ""]
            out += [f"- **{label}**: {text}" for label, text in _run_lines(run)]
            out += [f"\n![{run.name}]({figure_link(figure)})" for figure in run.figures]
    out += ["", "## Next steps", ""] + [f"- {s}" for s in _next_steps(data) or ["nothing pending"]]
    return "\n".join(out) + "\n"


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;font-size:.9em}
th{background:#f3f3f3}img{max-width:100%}.grokked,.agrees{color:#1a7f37}
.memorizing,.not_learning,.diverged,.differs{color:#b42318}"""


def _table(header: list[str], rows: list[list[str]], table_id: str = "", classes: list[list[str]] | None = None) -> str:
    """An HTML table; each cell's CSS class is its text unless `classes` (parallel to `rows`) says otherwise."""
    classes = classes or rows
    body = "".join("<tr>" + "".join(f"<td class='{html.escape(c)}'>{html.escape(text)}</td>"
                                    for text, c in zip(row, row_classes, strict=True)) + "</tr>"
                   for row, row_classes in zip(rows, classes, strict=True))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    table_attr = f" id='{table_id}'" if table_id else ""
    return f"<table{table_attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'>"


def _html_study(study: SweepEntry) -> str:
    """A study's findings, figures and table as HTML."""
    findings = "".join(f"<li>{html.escape(f)}</li>" for f in study.findings)
    figures = "".join(_img(figure, study.name) for figure in study.figures)
    return f"<ul>{findings}</ul>{figures}{_table(study.header, study.rows)}"


def render_html(data: ReportData) -> str:
    """The report as one self-contained HTML page (figures embedded as data URIs)."""
    outcomes, states = _counts(data)
    summary = _summary_rows(data)
    parts = [f"<h1>groklab status report</h1><p>Generated {time.strftime('%Y-%m-%d %H:%M')} from "
             f"<code>{html.escape(str(data.source))}</code>: {len(data.runs)} runs.</p>",
             "<h2>Executive summary</h2>", _table(["outcome", "runs"], [[k, str(v)] for k, v in outcomes.items()]),
             f"<p>States: {html.escape(', '.join(f'{k} {v}' for k, v in states.items()))}</p>",
             f"<p>{html.escape(_agreement_line(data))}</p>",
             "<h2>Summary table</h2>",
             _table(SUMMARY_HEADER, summary, "summary", _summary_classes(summary))]
    if data.comparison:
        parts.append(_img(data.comparison, "all runs"))
    for study in data.across_presets:
        parts.append(f"<h2>{study.kind} {html.escape(study.name)}: {html.escape(study.question)}</h2>"
                     + _html_study(study))
    for paper in data.papers:
        parts.append(f"<h2>{html.escape(paper.preset)}: {html.escape(paper.title)}</h2>"
                     f"<p>{html.escape(_paper_line(paper))}</p>")
        parts += [_img(figure, f"{paper.preset} seeds") for figure in paper.seed_figures]
        for sweep in paper.sweeps:
            parts.append(f"<h3>{sweep.kind} {html.escape(sweep.name)}: {html.escape(sweep.question)}</h3>"
                         + _html_study(sweep))
        for run in paper.runs:
            items = "".join(f"<li><b>{html.escape(label)}</b>: {html.escape(text)}</li>"
                            for label, text in _run_lines(run))
            parts.append(f"<h3>{html.escape(run.name)}</h3><ul>{items}</ul>")
            parts += [_img(figure, run.name) for figure in run.figures]
    steps = "".join(f"<li>{html.escape(s)}</li>" for s in _next_steps(data) or ["nothing pending"])
    parts.append(f"<h2>Next steps</h2><ul>{steps}</ul>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>groklab status report</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
