"""The status report across run folders: every run, sweep, ticket comparison and speed-up table, grouped by
paper, as report.md and a self-contained report.html."""

from __future__ import annotations

import logging
from pathlib import Path

from groklab.analysis import aggregate
from groklab.common.files import make_folder
from groklab.common.run_folder import FIGURES_DIR, find_runs, run_state
from groklab.config import ConfigError
from groklab.history import HistoryError
from groklab.plots import plot_comparison, plot_seed_bands, save_figure
from groklab.presets import discover
from groklab.replays import fidelity_line
from groklab.report.render import (
    PaperSection,
    ReportData,
    RunEntry,
    SweepEntry,
    write_report,
)
from groklab.resolve import get_preset
from groklab.run.analysis import analyze, draw_run_figures
from groklab.studies.base import study_sections
from groklab.studies.geometry import geometry_entry, run_geometry
from groklab.studies.scorecard import SCORECARD_JSON, read_scorecard


def report(runs_dir: Path, out: Path) -> tuple[Path, Path]:
    """Write report.md and a self-contained report.html about every run under `runs_dir` into `out`.

    Run folders are only read: figures for the report are drawn into `out/figures`.
    """
    sections, unreadable = study_sections(runs_dir, out / FIGURES_DIR)
    for problem in unreadable:
        logging.getLogger(__name__).warning("study left out of the report: %s", problem)
    in_studies = {run_dir for section in sections for run_dir in section.run_dirs}
    runs = [run_dir for run_dir in find_runs(runs_dir) if run_dir not in in_studies]
    studies = [(section.preset, section.entry) for section in sections if section.preset is not None]
    across = [section.entry for section in sections if section.preset is None]
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
    aligned = geometry_entry([run_geometry(e.result, e.name) for e in entries if e.result is not None], figures)
    scorecards = [block for path in (runs_dir / SCORECARD_JSON, *sorted(runs_dir.glob(f"*/{SCORECARD_JSON}")))
                  for block in read_scorecard(path)]
    data = ReportData(runs_dir, entries, _paper_sections(entries, studies, figures), comparison,
                      across + ([aligned] if aligned else []), scorecards)
    make_folder(out)
    return write_report(data, out)


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
                                     sweeps_of.get(key, []), fidelity_line(p.id), quick_line(p)))
    return sections


def quick_line(preset) -> str:
    """What the preset's quick scale shows of its paper: the claims it decides, and its own sentence."""
    keys = ", ".join(claim.key for claim in preset.quick_claims)
    shows = f"claims {keys}" if keys else "none of the paper's claims"
    return f"The quick scale decides {shows}{'; ' + preset.quick_shows if preset.quick_shows else ''}."
