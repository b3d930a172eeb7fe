"""`groklab suite`: every preset at one scale, and at the quick scale every preset study and ticket comparison."""

from __future__ import annotations

import time
from pathlib import Path

from groklab.launch.executor import Local
from groklab.resolve import presets, resolve
from groklab.run.execute import RunHandle, run
from groklab.run.folder import DEFAULT_RUNS_DIR
from groklab.studies.report import report
from groklab.studies.sweeps import analyze_sweep, resolve_points, start_sweep, study_arguments, sweep_spec
from groklab.studies.tickets import tickets


def suite(
    scale: str = "quick", out: Path | None = None, show_progress: bool = True, workers: int = 2
) -> dict[str, RunHandle]:
    """Run `scale` of every preset into `out`/<preset id>/ and, for the quick scale, every preset study (sized
    for minutes) into `out`/sweeps/<preset id>-<study>/ (`workers` points at a time) and every ticket
    comparison into `out`/tickets/; analyze everything and write `out`/report/."""
    out = out or DEFAULT_RUNS_DIR / f"suite-{scale}-{time.strftime('%Y%m%d-%H%M%S')}"
    configs = {preset.id: resolve(preset.id, scale) for preset in presets()}  # validate all before any work
    studies = {f"{p.id}-{name}": sweep_spec(p.id, study_arguments(study), study.scale, study.seeds)
               for p in presets() for name, study in p.studies.items() if scale == "quick"}
    points = {name: resolve_points(spec) for name, spec in studies.items()}
    ticket_studies = [(p.id, t) for p in presets() for t in p.tickets if scale == "quick"]
    for preset_id, t in ticket_studies:
        resolve(preset_id, t.scale)
    handles = {name: run(cfg, out / name, show_progress=show_progress) for name, cfg in configs.items()}
    for name, spec in studies.items():
        start_sweep(spec, out / "sweeps" / name, Local(workers), lambda line: print(line, flush=True), points[name])
        analyze_sweep(out / "sweeps" / name)
    for preset_id, t in ticket_studies:
        tickets(preset_id, t.scale, t.density, out / "tickets" / f"{preset_id}-{t.scale}-d{t.density:g}",
                show_progress=show_progress, retrain_steps=t.retrain_steps)
    report(out, out / "report")
    return handles
