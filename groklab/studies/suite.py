"""`groklab suite`: every preset at one scale, side by side, then the report; with `full`, also every preset
study and ticket comparison (quick scale)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from groklab.launch.executor import Local, in_processes, train_outcome
from groklab.report.terminal import shown
from groklab.resolve import get_preset, presets, resolve
from groklab.run.analysis import RunAnalysis, analyze
from groklab.run.folder import DEFAULT_RUNS_DIR
from groklab.studies.report import report
from groklab.studies.sweeps import analyze_sweep, resolve_points, start_sweep, study_arguments, sweep_spec
from groklab.studies.tickets import tickets


def expected_outcome(preset_id: str, scale: str) -> str:
    """The outcome a preset's `scale` should reach (for a scale other than quick and canonical: the paper's)."""
    chosen = get_preset(preset_id)
    return chosen.expected_outcome(scale) or chosen.reported.outcome


def estimated_minutes(workers: int) -> float:
    """How long the quick scales take `workers` at a time, from each preset's measured time (Preset.quick_seconds),
    with a fifth more for analysis and figures and half a minute for the report."""
    seconds = [p.quick_seconds or 60 for p in presets()]
    return (max(max(seconds), sum(seconds) / workers) * 1.2 + 30) / 60


def suite(
    scale: str = "quick", out: Path | None = None, workers: int = 2, full: bool = False,
    report_line: Callable[[str], None] = print,
) -> dict[str, RunAnalysis | None]:
    """Run `scale` of every preset into `out`/<preset id>/, `workers` at a time (finished runs in `out` are
    reused), printing one line as each ends: its outcome, events and the outcome its scale is expected to reach.
    With `full` (quick scale only), then every preset study into `out`/sweeps/ and every ticket comparison into
    `out`/tickets/. Writes `out`/report/ and returns each preset's analysis (None when its run failed)."""
    out = out or DEFAULT_RUNS_DIR / f"suite-{scale}-{time.strftime('%Y%m%d-%H%M%S')}"
    configs = {preset.id: resolve(preset.id, scale) for preset in presets()}  # validate all before any work
    studies = {f"{p.id}-{name}": sweep_spec(p.id, study_arguments(study), study.scale, study.seeds)
               for p in presets() for name, study in p.studies.items() if full}
    points = {name: resolve_points(spec) for name, spec in studies.items()}
    ticket_studies = [(p.id, t) for p in presets() for t in p.tickets if full]
    for preset_id, t in ticket_studies:
        resolve(preset_id, t.scale)
    report_line(f"suite: {len(configs)} presets at the {scale} scale, {workers} at a time, into {out}"
                + (f"; about {estimated_minutes(workers):.0f} min" if scale == "quick" else ""))
    results: dict[str, RunAnalysis | None] = {}

    def finished(preset_id: str, outcome: Any, seconds: float) -> None:
        line = f"[{len(results) + 1}/{len(configs)}] {preset_id}  "
        if isinstance(outcome, Exception):
            results[preset_id] = None
            report_line(line + f"failed: {type(outcome).__name__}: {outcome}")
            return
        results[preset_id] = result = analyze(out / preset_id, write=False)
        a = result.analysis
        report_line(line + f"{a.outcome} (memorized at {shown(a.memorization_step)}, generalized at "
                    f"{shown(a.generalization_step)}; expected: {expected_outcome(preset_id, scale)})  "
                    f"{seconds:.0f} s")

    in_processes(train_outcome, {name: (cfg, out / name) for name, cfg in configs.items()}, workers, finished)
    for name, spec in studies.items():
        start_sweep(spec, out / "sweeps" / name, Local(workers), report_line, points[name])
        analyze_sweep(out / "sweeps" / name)
    for preset_id, t in ticket_studies:
        tickets(preset_id, t.scale, t.density, out / "tickets" / f"{preset_id}-{t.scale}-d{t.density:g}",
                show_progress=False, retrain_steps=t.retrain_steps)
    report(out, out / "report")
    return {name: results[name] for name in configs}
