"""Minegishi et al.'s grokking-ticket comparison: the dense run, the magnitude-pruned ticket and two controls."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groklab.claims import TICKET_RUNS  # defined where the claims that read the procedure's runs are
from groklab.common.files import json_text, write_atomic
from groklab.common.run_folder import FIGURES_DIR
from groklab.config import ConfigError, RunConfig
from groklab.history import HistoryError
from groklab.launch.executor import Executor, Job, Local, Report
from groklab.launch.plan import Plan, PlanResult, Stage, execute
from groklab.plots import plot_overlay, save_figure
from groklab.report.render import SweepEntry
from groklab.resolve import derive, resolve
from groklab.run.analysis import RunAnalysis, analyze
from groklab.run.folder import DEFAULT_RUNS_DIR
from groklab.studies.base import StudyKind, StudySection, claim_study, find_studies, read_study_spec, register

TICKETS_HEADER = ("run", "outcome", "generalization step", "speed-up vs dense")


@dataclass(frozen=True)
class TicketsResult:
    """The four runs of the grokking-ticket procedure and how fast each generalized."""

    out: Path
    preset: str
    scale: str
    density: float
    runs: dict[str, RunAnalysis]
    figure: Path

    def to_dict(self) -> dict[str, Any]:
        steps = {name: r.analysis.generalization_step for name, r in self.runs.items()}
        dense = steps["dense"]
        return {"out": str(self.out), "preset": self.preset, "scale": self.scale, "density": self.density,
                "generalization_steps": steps,
                "outcomes": {name: r.analysis.outcome for name, r in self.runs.items()},
                "speedup_vs_dense": {name: (dense / s if dense and s else None) for name, s in steps.items()},
                "figure": str(self.figure)}

    def table_rows(self) -> list[list[str]]:
        """One row per run under TICKETS_HEADER: outcome, generalization step, speed-up vs dense."""
        summary = self.to_dict()
        speedup = summary["speedup_vs_dense"]
        return [[name, summary["outcomes"][name], str(summary["generalization_steps"][name]),
                 "-" if speedup[name] is None else f"{speedup[name]:.2f}x"] for name in TICKET_RUNS]


def tickets(
    preset: str, scale: str = "quick", density: float = 0.4, out: Path | None = None,
    overrides: list[str] | None = None, show_progress: bool = True, retrain_steps: int | None = None,
    executor: Executor | None = None, wait: bool = False, report: Report = lambda line: None,
) -> TicketsResult | PlanResult:
    """Minegishi et al.'s procedure: train the dense network; keep the `density` fraction of weight-matrix
    entries with the largest final magnitude, rewound to their initial values, and retrain with that mask
    (the ticket); controls: a random mask of the same density, and the dense network with its initial
    weights rescaled to the ticket's initial norm. `retrain_steps` shortens the ticket and control runs (the
    dense run always trains its full budget: its final weights define the ticket). Finished runs in `out` are
    reused, killed ones resumed. Here (the default executor) the result comes back; on SLURM without `wait`, the
    plan's result says where it stopped (the ticket and its norm-matched control wait for the dense run)."""
    if out is None:
        base = resolve(preset, scale, list(overrides or []))
        out = DEFAULT_RUNS_DIR / "tickets" / f"{base.preset}-{scale}-d{density:g}-s{base.seed}"
    stages = ticket_stages(preset, scale, density, out, overrides, retrain_steps)
    result = execute(Plan(f"tickets {out}", stages), executor or Local(1, show_progress), report, wait)
    result.raise_failure()
    return result if result.stopped else load_tickets(out)


def ticket_stages(preset: str, scale: str, density: float, out: Path, overrides: list[str] | None = None,
                  retrain_steps: int | None = None) -> list[Stage]:
    """Claim `out`; the procedure's two stages: the dense run and the random-mask control, then (built from the
    dense run's final weights) the ticket and the dense net at the ticket's initial norm."""
    base = resolve(preset, scale, list(overrides or []))
    shorter = {"train.steps": retrain_steps} if retrain_steps else {}
    claim_study(out, TICKETS, {"preset": base.preset, "scale": scale, "density": density,
                               "retrain_steps": retrain_steps, "overrides": list(overrides or [])})
    mask = {"kind": "magnitude", "density": density, "source": str((out / "dense").resolve())}
    ticket = derive(base, {**shorter, "train.mask": mask})
    random_mask = derive(base, {**shorter, "train.mask": {"kind": "random", "density": density}})

    def from_dense() -> list[Job]:
        matched = derive(base, {**shorter, "train.init_norm": _initial_norm(ticket)})
        return [Job(ticket, out / "ticket"), Job(matched, out / "dense_matched_norm")]

    return [Stage("dense and random mask", [Job(base, out / "dense"), Job(random_mask, out / "random_mask")]),
            Stage("ticket and matched norm", build=from_dense)]


def load_tickets(folder: Path, figures_dir: Path | None = None) -> TicketsResult:
    """Analyze a finished `tickets` folder and draw its test-accuracy overlay into `figures_dir` (default
    folder/figures); writes folder/tickets_summary.json when drawing into the folder itself."""
    meta = read_study_spec(folder, TICKETS)
    runs = {name: analyze(folder / name, write=False) for name in TICKET_RUNS}
    figure = (figures_dir or folder / FIGURES_DIR) / f"{folder.name}-tickets.png"
    dense = runs["dense"]  # folders written before tickets.json named preset and scale: read them from the run
    result = TicketsResult(folder, meta.get("preset") or dense.preset, meta.get("scale") or dense.scale,
                           meta["density"], runs, figure)
    save_figure(plot_overlay([(name, r.history) for name, r in runs.items()], ["test_acc", "train_acc"], set(),
                             f"{result.preset} ({result.scale}): density {result.density:g}"), figure)
    if figures_dir is None:
        write_atomic(folder / "tickets_summary.json", json_text(result.to_dict()))
    return result


def find_tickets(root: Path) -> list[Path]:
    """Folders of the ticket procedure at or below `root`."""
    return find_studies(root, TICKETS)


def _initial_norm(cfg: RunConfig) -> float:
    """Total L2 norm of `cfg`'s model at initialization after its mask is applied (the ticket's start)."""
    import torch

    from groklab.objective import Objective
    from groklab.tasks import build_task
    from groklab.train.trainer import initial_model, param_norm

    model, _ = initial_model(cfg, build_task(cfg.task, cfg.seed), Objective(cfg), torch.device("cpu"))
    return round(param_norm(model), 6)


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


def _section(folder: Path, runs_dir: Path, figures_dir: Path) -> StudySection | None:
    try:
        result = load_tickets(folder, figures_dir)
    except (ConfigError, HistoryError):  # unfinished: its runs are reported one by one
        return None
    return StudySection(tickets_entry(result, runs_dir), result.preset,
                        frozenset(folder / name for name in TICKET_RUNS))


TICKETS = register(StudyKind("ticket comparison", "tickets.json", _section))
