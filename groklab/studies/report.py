"""The status report across run folders: every run, sweep, ticket comparison and speed-up table, grouped by
paper, as report.md and a self-contained report.html."""

from __future__ import annotations

from pathlib import Path

from groklab.analysis import aggregate
from groklab.common.run_files import FIGURES_DIR
from groklab.config import ConfigError
from groklab.fidelity import fidelity_line
from groklab.history import HistoryError, atomic_write_text
from groklab.plots import plot_comparison, plot_seed_bands, save_figure
from groklab.presets import discover
from groklab.report.render import (
    PaperSection,
    ReportData,
    RunEntry,
    SweepEntry,
    format_fact,
    render_html,
    render_markdown,
)
from groklab.resolve import get_preset
from groklab.run.analysis import analyze, draw_run_figures
from groklab.runs import find_runs, run_state
from groklab.studies.speedup import find_speedups, speedup_entry
from groklab.studies.sweeps import SweepAnalysis, analyze_sweep, find_sweeps
from groklab.studies.tickets import TICKET_RUNS, TICKETS_HEADER, TicketsResult, find_tickets, load_tickets


def report(runs_dir: Path, out: Path) -> tuple[Path, Path]:
    """Write report.md and a self-contained report.html about every run under `runs_dir` into `out`.

    Run folders are only read: figures for the report are drawn into `out/figures`.
    """
    sweeps = [analyze_sweep(sweep_dir, out / FIGURES_DIR) for sweep_dir in find_sweeps(runs_dir)]
    ticket_results = []
    for folder in find_tickets(runs_dir):
        try:
            ticket_results.append(load_tickets(folder, out / FIGURES_DIR))
        except (ConfigError, HistoryError):  # unfinished: its runs are reported one by one
            continue
    in_studies = {sweep.sweep_dir / point.name for sweep in sweeps for point, _ in sweep.points}
    in_studies |= {t.out / name for t in ticket_results for name in TICKET_RUNS}
    speedups = find_speedups(runs_dir)
    runs = [run_dir for run_dir in find_runs(runs_dir) if run_dir not in in_studies
            and not any(folder in run_dir.parents for folder in speedups)]
    studies = [(s.spec.preset, sweep_entry(s, runs_dir)) for s in sweeps]
    studies += [(t.preset, tickets_entry(t, runs_dir)) for t in ticket_results]
    across = [speedup_entry(folder, runs_dir, out / FIGURES_DIR) for folder in speedups]
    if not runs and not studies and not across:
        raise FileNotFoundError(f"no run folders (with config.yaml) under {runs_dir}")
    figures = out / FIGURES_DIR
    entries, curves = [], []
    for run_dir in runs:
        name = str(run_dir.relative_to(runs_dir)) if run_dir != runs_dir else run_dir.name
        state = run_state(run_dir)
        try:
            result = analyze(run_dir, write=False)
        except (ConfigError, HistoryError) as err:
            entries.append(RunEntry(name, run_dir, state.state, state.note, None, (), problem=str(err)))
            continue
        drawn = draw_run_figures(result, name, figures, name.replace("/", "__") + "-")
        curves.append((name, result.history, result.analysis))
        entries.append(RunEntry(name, run_dir, state.state, state.note, result, drawn))
    comparison = None
    if curves:
        comparison = figures / "comparison.png"
        save_figure(plot_comparison(curves), comparison)
    data = ReportData(runs_dir, entries, _paper_sections(entries, studies, figures), comparison, across)
    out.mkdir(parents=True, exist_ok=True)
    md, page = out / "report.md", out / "report.html"
    atomic_write_text(md, render_markdown(data, lambda path: str(path.relative_to(out))))
    atomic_write_text(page, render_html(data))
    return md, page


def sweep_entry(sweep: SweepAnalysis, runs_dir: Path) -> SweepEntry:
    """A sweep's table, findings and figures for the report."""
    labels = get_preset(sweep.spec.preset).outcome_labels if sweep.spec.preset in discover() else {}
    question = next((study.question for study in (get_preset(sweep.spec.preset).studies.values()
                                                  if sweep.spec.preset in discover() else ())
                     if study.grid.keys() == sweep.spec.grid.keys() and study.scale == sweep.spec.scale),
                    f"grid over {', '.join(sweep.spec.grid)}")
    header = [*sweep.spec.grid, "seed", "outcome", "memorization", "generalization", "final train / test acc",
              "details"]
    rows, phases = [], {}
    for point, result in sweep.points:
        values = [point.value(k) or "" for k in sweep.spec.grid] + [str(point.seed)]
        if result is None:
            rows.append(values + ["not run", "-", "-", "-", ""])
            continue
        a = result.analysis
        phase = labels.get(a.outcome, a.outcome)
        phases[phase] = phases.get(phase, 0) + 1
        details = [f"{k} {format_fact(v)}" for k, v in result.signature.items()]
        if a.slingshots is not None:
            details.append(f"slingshots {len(a.slingshots)}")
        accuracies = f"{a.final['train_acc']:.1%} / {a.final['test_acc']:.1%}"
        rows.append(values + [phase, str(a.memorization_step), str(a.generalization_step), accuracies,
                              ", ".join(details)])
    where = sweep.sweep_dir.relative_to(runs_dir) if sweep.sweep_dir != runs_dir else sweep.sweep_dir
    findings = [f"{len(sweep.points)} points in {where}; "
                "outcomes: " + ", ".join(f"{k} {v}" for k, v in phases.items())]
    counted = [(point, len(r.analysis.slingshots)) for point, r in sweep.points
                if r is not None and r.analysis.slingshots is not None]
    if counted:
        findings.append("Slingshot cycles: " + ", ".join(f"{','.join(p.overrides) or 'base'} (seed {p.seed}): {n}"
                                                        for p, n in counted))
    if sweep.agreement:
        g = sweep.agreement
        findings.append(f"measured vs predicted generalization step: median relative error "
                        f"{g['median_relative_error']:.1%}, largest {g['max_relative_error']:.1%} over {g['points']} "
                        f"points" + (f" ({g['without_measurement']} did not generalize)" if g["without_measurement"]
                                     else ""))
    return SweepEntry(sweep.sweep_dir.name, question, header, rows, findings, sweep.figures)


def tickets_entry(result: TicketsResult, runs_dir: Path) -> SweepEntry:
    """A ticket comparison's table, findings and figure for the report."""
    summary = result.to_dict()
    speedup = summary["speedup_vs_dense"]
    rows = result.table_rows()
    steps = summary["generalization_steps"]
    ticket = steps["ticket"]
    beaten = [name for name in ("dense", "random_mask", "dense_matched_norm")
              if ticket is not None and (steps[name] is None or ticket < steps[name])]
    where = result.out.relative_to(runs_dir) if result.out != runs_dir else result.out
    findings = [f"density {result.density:g} at the {result.scale} scale, in {where}",
                "the ticket generalizes sooner than " + (", ".join(beaten) if beaten else "none of the others")
                + (f" ({speedup['ticket']:.1f}x sooner than dense)" if speedup["ticket"] else "")]
    question = "does the magnitude-pruned ticket, rewound to its initialization, generalize sooner than the dense "
    question += "net, a random mask of the same density and the dense net at the ticket's weight norm?"
    return SweepEntry(result.out.name, question, list(TICKETS_HEADER), rows, findings, (result.figure,),
                      kind="Tickets")


def _paper_sections(
    entries: list[RunEntry], studies: list[tuple[str, SweepEntry]], figures: Path
) -> list[PaperSection]:
    """Group runs and studies (sweeps, ticket comparisons) by preset, in preset order; runs of unknown presets
    come last under 'other'. A scale with several finished seeds gets a seed-band figure."""
    by_preset: dict[str, list[RunEntry]] = {}
    sweeps_of: dict[str, list[SweepEntry]] = {}
    for entry in entries:
        preset = entry.result.preset if entry.result is not None else None
        key = preset if preset in discover() else "other"
        by_preset.setdefault(key, []).append(entry)
    for preset, study in studies:
        key = preset if preset in discover() else "other"
        sweeps_of.setdefault(key, []).append(study)
        by_preset.setdefault(key, [])
    sections = []
    for key, runs in sorted(by_preset.items(), key=lambda kv: (kv[0] == "other", kv[0])):
        finished = [r for r in runs if r.result is not None and r.state in ("completed", "diverged")]
        scale_of = {id(r): r.result.scale or "custom" for r in finished}
        seeds = {scale: aggregate([r.result.analysis for r in finished if scale_of[id(r)] == scale])
                 for scale in sorted(set(scale_of.values()))}
        bands = []
        for scale in seeds if key != "other" else ():
            group = [r.result.history for r in finished if scale_of[id(r)] == scale]
            if len(group) >= 2:
                bands.append(figures / f"{key}-{scale}-seeds.png")
                save_figure(plot_seed_bands(group, f"{key} ({scale})"), bands[-1])
        if key == "other":
            sections.append(PaperSection("other", "runs without a known preset", "", "", runs, seeds,
                                         sweeps=sweeps_of.get(key, [])))
            continue
        p = get_preset(key)
        reported = f"{p.reported.outcome} ({p.reported.summary}); preset version {p.version}"
        sections.append(PaperSection(p.id, p.title, p.citation, reported, runs, seeds, tuple(bands),
                                     sweeps_of.get(key, []), fidelity_line(p.id)))
    return sections
