"""The groklab command line: a thin layer over groklab.api.

Each command imports groklab.api (and with it torch and matplotlib) itself, and only when it trains, analyzes or
draws: --help, papers, status and cancel start without them (benchmarks/cli_startup.py)."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Optional, get_type_hints

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from groklab.report.describe import describe_run, percent, shown

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Reproduce and analyze grokking experiments.")
err_console = Console(stderr=True)
DEFAULT_RUNS_DIR = Path("runs")  # groklab.run.folder.DEFAULT_RUNS_DIR, without importing what trains


def user_errors() -> tuple[type[Exception], ...]:
    """The errors a command reports as a clear message (exit 2) instead of a traceback; imported when an
    exception is being matched, not at start-up."""
    from groklab.common.checkpoint import CheckpointError
    from groklab.common.files import WriteError
    from groklab.config import ConfigError
    from groklab.history import HistoryError
    from groklab.importers import LogFormatError
    from groklab.launch import JobError, SubmissionError
    from groklab.registry import RegistryError

    return (ConfigError, HistoryError, RegistryError, FileExistsError, FileNotFoundError, SubmissionError,
            JobError, CheckpointError, WriteError, LogFormatError)


class Executor(StrEnum):
    local = "local"
    slurm = "slurm"


SLURM = "SLURM (--executor slurm)"
LAUNCH_OPTIONS = {  # parameter: (its option, its default); declared here once for every command that trains
    "executor": (Annotated[Executor, typer.Option(help="local: train here; slurm: submit through submitit.")],
                 Executor.local),
    "partition": (Annotated[Optional[str], typer.Option(help="SLURM partition.", rich_help_panel=SLURM)], None),
    "time_min": (Annotated[Optional[int], typer.Option(
        "--time", help="Job time limit in minutes (default: calibrated estimate x 1.5 + 2).",
        rich_help_panel=SLURM)], None),
    "cpus_per_task": (Annotated[int, typer.Option("--cpus", min=1, help="CPUs per job.", rich_help_panel=SLURM)], 1),
    "gpus_per_node": (Annotated[int, typer.Option("--gpus", min=0, help="GPUs per job.", rich_help_panel=SLURM)], 0),
    "mem_gb": (Annotated[Optional[float], typer.Option(help="Memory per job in GB.", rich_help_panel=SLURM)], None),
    "account": (Annotated[Optional[str], typer.Option(help="SLURM account to charge.", rich_help_panel=SLURM)], None),
    "max_parallel": (Annotated[Optional[int], typer.Option(min=1, help="Array jobs running at once.",
                                                           rich_help_panel=SLURM)], None),
    "wait": (Annotated[bool, typer.Option("--wait", help="Block until the jobs end, then analyze.",
                                          rich_help_panel=SLURM)], False),
}


@dataclass(frozen=True)
class Launch:
    """Where a command trains: --executor, --wait and the SLURM options, as `launches` hands them over."""

    executor: Executor
    wait: bool
    options: dict[str, Any]

    @property
    def on_slurm(self) -> bool:
        return self.executor is Executor.slurm

    def chosen(self, workers: int = 1, show_progress: bool = False, batched: bool = False) -> Any:
        """The executor these options describe (the SLURM options are checked here, before any work)."""
        from groklab.launch.executor import executor_for
        from groklab.launch.slurm import slurm_resources

        resources = slurm_resources(**self.options) if self.on_slurm else None
        return executor_for(self.executor.value, resources, workers, batched, show_progress)


def launches(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` the options of LAUNCH_OPTIONS; it receives them as its keyword argument `launch`."""
    hints = get_type_hints(command, include_extras=True)
    own = [p.replace(annotation=hints[p.name]) for p in inspect.signature(command).parameters.values()
           if p.name != "launch"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
             for name, (annotation, default) in LAUNCH_OPTIONS.items()]

    @functools.wraps(command)
    def with_launch(**kwargs: Any) -> None:
        options = {name: kwargs.pop(name) for name in LAUNCH_OPTIONS}
        command(**kwargs, launch=Launch(options.pop("executor"), options.pop("wait"), options))

    with_launch.__signature__ = inspect.Signature([*own, *added])  # type: ignore[attr-defined]
    with_launch.__annotations__ = {p.name: p.annotation for p in [*own, *added]}
    return with_launch


def _submitted(submission, wait: bool) -> None:  # noqa: ANN001
    from groklab import api

    if submission.estimate is not None:
        typer.echo(f"estimated {submission.estimate.describe()}; time limit {submission.time_limit_min} min")
    for run_dir, job_id in zip(submission.run_dirs, submission.job_ids, strict=True):
        typer.echo(f"submitted job {job_id}: {run_dir}")
    if wait and submission.job_ids:
        api.wait_for_runs(submission.run_dirs, typer.echo)


def _fail(err: Exception) -> None:
    err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command("run")
@launches
def run_cmd(
    preset: Annotated[Optional[str], typer.Argument(help="Preset id or alias (see `groklab papers`).")] = None,
    overrides: Annotated[Optional[list[str]], typer.Argument(help="Config overrides, e.g. optim.lr=1e-3.")] = None,
    scale: Annotated[str, typer.Option(help="Preset scale: quick or canonical.")] = "quick",
    seed: Annotated[Optional[int], typer.Option(help="Seed for split, init and batch order.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Run folder to create (must not exist or be empty).")] = None,
    device: Annotated[Optional[str], typer.Option(help="auto, cpu or cuda.")] = None,
    config: Annotated[Optional[Path], typer.Option(help="Run a config.yaml written by groklab.")] = None,
    resume: Annotated[Optional[Path], typer.Option(help="Continue the run in this folder.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and print the resolved config only.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
    tensorboard: Annotated[bool, typer.Option("--tensorboard", help="Mirror records to RUN_DIR/tensorboard.")] = False,
    seeds: Annotated[int, typer.Option(min=1, help="Train N seeds (from --seed) as one batched computation, "
                                       "each in its own run folder (--out DIR: DIR/s<seed>).")] = 1,
    *,
    launch: Launch,
) -> None:
    """Train one run; prints the run folder as the last line of stdout (with --executor slurm: submit it)."""
    from groklab import api
    from groklab.config import ConfigError

    if preset is not None and "=" in preset:  # `groklab run --config F a.b=c`: first override landed here
        overrides, preset = [preset, *(overrides or [])], None
    try:
        if resume is not None:
            if preset or overrides or config:
                raise ConfigError(["--resume reuses the saved config: drop the preset, --config and overrides"])
            handle = api.resume(resume, show_progress=not quiet, tensorboard=tensorboard)
        else:
            cfg = api.resolve(preset, scale, overrides, config, seed, device)
            if dry_run:
                from groklab.config import config_to_dict

                typer.echo(json.dumps(config_to_dict(cfg), indent=2))
                return
            if seeds > 1 and launch.on_slurm:
                raise ConfigError(["--seeds with --executor slurm: submit the seeds as an array with "
                                   "`groklab sweep PRESET --seeds N --executor slurm`"])
            if seeds > 1:
                for handle in api.run_seeds(cfg, seeds, out, show_progress=not quiet):
                    a = handle.result.analysis
                    typer.echo(f"seed {handle.result.config.seed}: {handle.state}  outcome {a.outcome}  "
                               f"generalization step {shown(a.generalization_step)}  {handle.run_dir}")
                return
            handle = api.run(cfg, out, not quiet, tensorboard, launch.chosen())
            if isinstance(handle, api.Submission):
                _submitted(handle, launch.wait)
                return
    except user_errors() as err:
        _fail(err)
    if handle.state == "preempted":  # the trainer's log said where it stopped and how to continue
        typer.echo(str(handle.run_dir))
        raise typer.Exit(128 + signal.Signals[handle.signal].value)  # what a shell reports for a signal's stop
    for label, text in describe_run(handle.result):
        if label in ("state", "outcome", "memorization step", "generalization step", "final", "diagnosis"):
            typer.echo(f"{label}: {text}")
    typer.echo(str(handle.run_dir))


@app.command("suite")
@launches
def suite_cmd(
    chosen: Annotated[Optional[list[str]], typer.Argument(
        metavar="[PRESET]... [KEY=VALUE]...",
        help="Presets to run (default: every preset) and overrides for all of them, e.g. train.steps=50.")] = None,
    scale: Annotated[str, typer.Option(help="Scale to run for every preset.")] = "quick",
    out: Annotated[Optional[Path], typer.Option(help="Folder for the runs (default runs/suite-SCALE-TIME); "
                                                     "finished runs in it are reused.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Runs trained at a time (processes sharing the cores).")] = 2,
    full: Annotated[bool, typer.Option("--full", help="Then every preset study (sweep) and ticket comparison "
                                                      "(quick scale; about an hour on 2 cores).")] = False,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds 0..N-1 of every preset (seed k > 0 into "
                                                   "PRESET-seedK/), e.g. 3 for the report's cross-paper "
                                                   "geometry over seeds.")] = 1,
    *,
    launch: Launch,
) -> None:
    """Run one scale of every preset side by side, say how each ended against what its scale should reach, and
    write the report (here, or on SLURM: the same command again, once the jobs end, reads them)."""
    from groklab import api

    folder = out or DEFAULT_RUNS_DIR / f"suite-{scale}-{time.strftime('%Y%m%d-%H%M%S')}"
    names = [name for name in chosen or [] if "=" not in name]
    overrides = [name for name in chosen or [] if "=" in name]
    try:
        result = api.suite(scale, folder, workers, full, report_line=typer.echo, seeds=seeds, chosen=names,
                           overrides=overrides, executor=launch.chosen(workers), wait=launch.wait)
    except user_errors() as err:
        _fail(err)
    if result.plan.stopped:
        typer.echo(f"{result.plan.stopped}\nresults: {folder}")
        return
    columns = "{:23s}{:14s}{:14s}{:7s}{:>10s}{:>12s}{:>9s}"  # 89 characters: no table wider than a terminal
    typer.echo(columns.format("preset", "outcome", "expected", "agrees", "memorized", "generalized", "test acc"))
    for name, run in result.runs.items():
        expected, a = api.expected_outcome(api.preset_of_run(name), scale), run.analysis if run else None
        agrees = "-" if expected is None else "yes" if a and a.outcome == expected else "NO"
        typer.echo(columns.format(name, a.outcome if a else "failed", expected or "-", agrees,
                                  shown(a and a.memorization_step),
                                  shown(a and a.generalization_step), percent(a.final["test_acc"]) if a else "-"))
    agree = sum(r is not None and r.analysis.outcome == api.expected_outcome(api.preset_of_run(n), scale)
                for n, r in result.runs.items())
    typer.echo(f"{agree}/{len(result.runs)} runs reached the outcome expected at the {scale} scale")
    typer.echo(f"report: {folder / 'report' / 'report.html'} (and report.md)\nresults: {folder}")


@app.command("scorecard")
@launches
def scorecard_cmd(
    chosen: Annotated[Optional[list[str]], typer.Argument(
        metavar="[PRESET]...", help="Presets whose claims to check (default: every preset).")] = None,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds 0..N-1 of every run a claim reads.")] = 3,
    out: Annotated[Path, typer.Option(help="Folder for the runs and scorecard.md / scorecard.json; the same "
                                           "command again reuses its finished runs.")] = DEFAULT_RUNS_DIR / "scorecard",
    claim: Annotated[Optional[list[str]], typer.Option(
        help="Only this claim (KEY or PRESET:KEY; repeatable).")] = None,
    train: Annotated[bool, typer.Option(help="Train what is missing; --no-train decides on the runs in --out "
                                             "(the rest pending).")] = True,
    list_claims: Annotated[bool, typer.Option("--list", help="List the claims and the runs they read; train "
                                                             "nothing.")] = False,
    evidence: Annotated[Optional[Path], typer.Option(
        help="Also write compact evidence to commit here (config, status, analysis and a thinned history per "
             "run, and scorecard.json with the command, commit, date and machine).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Runs trained at a time (processes sharing the cores).")] = 1,
    *,
    launch: Launch,
) -> None:
    """Check each paper's headline claims (its number, where it stands, the bound it is held to) on groklab runs
    over seeds, print the scorecard and write it to --out as scorecard.md and scorecard.json: holds, fails, or
    pending while runs are missing."""
    from groklab.studies.scorecard import chosen_claims, scorecard

    if list_claims:
        from groklab import api

        try:
            claims = chosen_claims([api.get_preset(p) for p in chosen] if chosen else api.presets(), claim)
        except user_errors() as err:
            _fail(err)
        for preset, c in claims:
            arms = "; ".join(f"{name}: {arm.scale} {' '.join(arm.overrides)}".rstrip() for name, arm in c.arms.items())
            typer.echo(f"{preset.id}:{c.key}  {c.statement}\n    paper: {c.paper} ({c.source}); agrees if "
                       f"{c.measure.describe()} is {c.bound.describe()}\n    runs: {arms}")
        return
    try:
        result = scorecard(chosen, out, seeds, claim, launch.chosen(workers), train, launch.wait, typer.echo)
    except user_errors() as err:
        _fail(err)
    if result.plan is not None and result.plan.stopped:
        typer.echo(result.plan.stopped)
    from groklab.studies.scorecard import HEADER, scorecard_rows

    table = Table(*HEADER, show_lines=True)
    for row in scorecard_rows([r.to_dict() for r in result.results]):
        table.add_row(*map(escape, row))
    Console(width=max(shutil.get_terminal_size().columns, 160)).print(table)
    typer.echo(f"scorecard: {result.files[0]} (and {result.files[1].name})")
    if evidence is not None:
        import subprocess

        from groklab.studies.scorecard import export_evidence

        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        written = export_evidence(result, evidence, "groklab " + " ".join(sys.argv[1:]),
                                  commit.stdout.strip() if commit.returncode == 0 else "unknown")
        typer.echo(f"evidence: {written}")


@app.command("speedup")
@launches
def speedup_cmd(
    presets: Annotated[Optional[list[str]], typer.Argument(
        help="Preset ids or aliases (default: every preset but the accelerators' own papers).")] = None,
    accelerators: Annotated[str, typer.Option(
        help="Comma-separated: grokfast_ema, grokfast_ma, orthogonal, stablemax.",
    )] = "grokfast_ema,orthogonal,stablemax",
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per preset and accelerator (batched).")] = 3,
    scale: Annotated[str, typer.Option(help="Preset scale.")] = "quick",
    out: Annotated[Optional[Path], typer.Option(
        help="Folder (default runs/speedup-SCALE). Rerunning reuses it.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Arms trained at a time (processes, CPU threads shared).")] = 2,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
    *,
    launch: Launch,
) -> None:
    """Steps to generalization of each preset with and without each grokking accelerator, as a table."""
    from groklab import api
    from groklab.studies.speedup import SPEEDUP_HEADER, SpeedupSpec, default_presets, run_speedup, speedup_rows

    folder = out or DEFAULT_RUNS_DIR / f"speedup-{scale}"
    try:
        spec = SpeedupSpec(presets=[api.get_preset(p).id for p in presets] if presets else default_presets(),
                           accelerators=[a.strip() for a in accelerators.split(",") if a.strip()], seeds=seeds,
                           scale=scale)
        arms = run_speedup(spec, folder, workers, report=typer.echo,
                           executor=launch.chosen(workers, show_progress=not quiet), wait=launch.wait)
    except (*user_errors(), KeyError) as err:
        _fail(err)
    if isinstance(arms, api.PlanResult):
        typer.echo(f"{arms.stopped}\nresults: {folder}")
        return
    rows, findings = speedup_rows(arms)
    table = Table(*SPEEDUP_HEADER)
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)
    for finding in findings:
        typer.echo(finding)
    typer.echo(f"results: {folder} (groklab report {folder} draws the table and figure)")


@app.command("sweep")
@launches
def sweep_cmd(
    preset: Annotated[str, typer.Argument(help="Preset id or alias (see `groklab papers`).")],
    axes: Annotated[list[str], typer.Argument(help="Grid axes key=v1,v2,... (key=v fixes one value).")],
    scale: Annotated[str, typer.Option(help="Preset scale every point starts from.")] = "quick",
    seeds: Annotated[int, typer.Option(min=1, help="Seeds 0..N-1 for every grid point.")] = 1,
    workers: Annotated[int, typer.Option(min=1, help="Points trained in parallel (processes).")] = 1,
    out: Annotated[Optional[Path], typer.Option(help="Sweep folder (default runs/sweeps/PRESET-SCALE-HASH).")] = None,
    batched: Annotated[bool, typer.Option(help="Train the points that differ only in seed, learning rates, weight "
                                          "decays, initial scale or training subset as one batched computation "
                                          "(each still its own run folder).")] = False,
    *,
    launch: Launch,
) -> None:
    """Run a grid of runs (locally, or as a SLURM job array); the same command again resumes a killed sweep
    without redoing points."""
    from groklab import api
    from groklab.config import ConfigError

    try:
        result = api.sweep(preset, axes, scale, seeds, workers, out, executor=launch.chosen(workers, batched=batched),
                           batched=batched)
        if isinstance(result, api.Submission):
            _submitted(result, launch.wait)
            if not launch.wait:
                return
            out = out or (result.run_dirs[0].parent if result.run_dirs else None)
            if out is None:
                raise ConfigError(["nothing was submitted and no --out was given: nothing to analyze"])
            result = api.analyze_sweep(out)
    except user_errors() as err:
        _fail(err)
    labels = api.get_preset(result.spec.preset).outcome_labels
    table = Table("point", "outcome", "memorization", "generalization", "notes")
    for point, run in result.points:
        if run is None:
            table.add_row(point.name, "not run", "-", "-", "")
            continue
        a = run.analysis
        notes = ", ".join(f"{k} {shown(v)}" for k, v in run.signature.items())
        notes += f", slingshots {len(a.slingshots)}" if a.slingshots is not None else ""
        table.add_row(point.name, labels.get(a.outcome, a.outcome), shown(a.memorization_step),
                      shown(a.generalization_step), notes.strip(", "))
    Console(width=200).print(table)
    if result.agreement:
        typer.echo(f"measured vs predicted generalization step: median relative error "
                   f"{result.agreement['median_relative_error']:.1%} over {result.agreement['points']} points")
    typer.echo("\n".join(str(f) for f in result.figures))
    typer.echo(f"sweep: {result.sweep_dir}")


@app.command("tickets")
@launches
def tickets_cmd(
    preset: Annotated[str, typer.Argument(help="Preset id or alias (e.g. 10).")],
    overrides: Annotated[Optional[list[str]], typer.Argument(help="Config overrides for all four runs.")] = None,
    scale: Annotated[str, typer.Option(help="Preset scale.")] = "quick",
    density: Annotated[float, typer.Option(min=0.0, max=1.0, help="Fraction of weights the ticket keeps.")] = 0.4,
    out: Annotated[Optional[Path], typer.Option(help="Folder for the four runs (finished runs are reused).")] = None,
    retrain_steps: Annotated[Optional[int], typer.Option(min=1, help="Steps for the ticket and controls.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
    *,
    launch: Launch,
) -> None:
    """Grokking tickets: dense run, magnitude-pruned ticket rewound to init, random-mask and norm-matched controls."""
    from groklab import api

    try:
        result = api.tickets(preset, scale, density, out, overrides, not quiet, retrain_steps,
                             launch.chosen(show_progress=not quiet), launch.wait, typer.echo)
    except user_errors() as err:
        _fail(err)
    if isinstance(result, api.PlanResult):
        typer.echo(f"{result.stopped}\ntickets: {out or 'runs/tickets'}")
        return
    table = Table(*api.TICKETS_HEADER)
    for row in result.table_rows():
        table.add_row(*row)
    Console(width=200).print(table)
    typer.echo(f"{result.figure}\ntickets: {result.out}")


@app.command("analyze")
def analyze_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Analyze a run: events, outcome, final metrics; writes analysis.json and figures."""
    from groklab import api

    try:
        result = api.analyze(run_dir)
    except user_errors() as err:
        _fail(err)
    from groklab.common.files import json_text

    if as_json:
        typer.echo(json_text(result.to_dict(), indent=None))
        return
    for label, text in describe_run(result):
        if label not in ("notes", "partial"):  # those go to stderr, one per line
            typer.echo(f"{label:27s} {text}")
    for problem in result.analysis.problems:
        err_console.print(f"[yellow]note:[/] {escape(problem)}", soft_wrap=True)  # a path is never folded


@app.command("geometry")
def geometry_cmd(
    runs_dir: Annotated[Path, typer.Argument(help="A run folder or a folder of runs.")] = DEFAULT_RUNS_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """When each geometric measure (eval.probes=[representation]) moves relative to its run's test-accuracy jump:
    half-change time in normalized time (0 at memorization, 1 at generalization) and before / with / after."""
    from groklab import api

    runs = api.geometry(runs_dir)
    if not runs:
        _fail(FileNotFoundError(f"no readable run folders under {runs_dir}"))
    if as_json:
        from groklab.common.files import json_text

        typer.echo(json_text([run.to_dict() for run in runs], indent=None))
        return
    console = Console()
    table = Table(box=None, header_style="bold")
    for column in ("run", "preset", "measure", "half-change time", "moves"):
        table.add_column(column, overflow="fold")
    for run in runs:
        for measure, placed in run.measures.items():
            table.add_row(escape(run.name), run.preset, measure, shown(placed["time"]), placed["order"])
    if table.row_count:
        console.print(table)
    for run in runs:
        if run.reason:
            console.print(escape(f"{run.name} ({run.preset}, {run.outcome}): not aligned, {run.reason}"),
                          soft_wrap=True)


@app.command("status")
def status_cmd(
    runs_dir: Annotated[Path, typer.Argument(help="A run folder or a folder of runs.")] = DEFAULT_RUNS_DIR,
) -> None:
    """One line per run: preset, state, step / total, last accuracies, ETA, outcome; then any run's note."""
    from groklab.launch.status import status

    rows = status(runs_dir)
    if not rows:
        _fail(FileNotFoundError(f"no run folders (with config.yaml) under {runs_dir}"))
    typer.echo("\n".join(status_lines(rows, runs_dir, shutil.get_terminal_size().columns)))
    for row in rows:
        if row.state.note:
            typer.echo(f"{_run_name(row.run_dir, runs_dir)}: {row.state.note}")


def _run_name(run_dir: Path, root: Path) -> str:
    return str(run_dir.relative_to(root)) if run_dir != root else run_dir.name


def status_lines(rows: list, root: Path, width: int) -> list[str]:
    """The status rows as a plain table, one line per run, no cell ever folded: runs named relative to `root`,
    accuracies in percent; the preset column only when a run's name does not already say it, the ETA and job
    columns only when some run has one; seed, scale, ETA and preset left out, in that order, while the table is
    wider than `width`."""
    columns = {
        "run": [_run_name(r.run_dir, root) for r in rows],
        "preset": [r.preset or "-" for r in rows], "scale": [r.scale or "-" for r in rows],
        "seed": [shown(r.seed) for r in rows], "state": [r.state.state for r in rows],
        "step": [f"{shown(r.state.step)}/{shown(r.state.total_steps)}" for r in rows],
        "train": [percent(r.state.train_acc) for r in rows], "test": [percent(r.state.test_acc) for r in rows],
        "outcome": [r.outcome or "-" for r in rows],
        "ETA": [f"{r.state.eta_s:.0f} s" if r.state.eta_s is not None else "-" for r in rows],
        "job": [f"{r.job.job_id} {r.job.state}" if r.job else "-" for r in rows],
    }
    widths = {name: max(map(len, [name, *cells])) for name, cells in columns.items()}
    kept = [name for name, cells in columns.items()
            if name not in ("preset", "scale", "seed", "ETA", "job") or set(cells) != {"-"}]
    if columns["preset"] == columns["run"] and "preset" in kept:
        kept.remove("preset")
    for optional in ("seed", "scale", "ETA", "preset"):
        if sum(widths[name] + 2 for name in kept) - 2 <= width:
            break
        if optional in kept:
            kept.remove(optional)
    lines = [[name for name in kept], *([columns[name][i] for name in kept] for i in range(len(rows)))]
    return ["  ".join(cell.ljust(widths[name]) for cell, name in zip(line, kept, strict=True)).rstrip()
            for line in lines]


@app.command("plot")
def plot_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    measure: Annotated[str, typer.Option(
        help="What to draw across the run's kept checkpoints: embedding, or cka_final (representation CKA with the "
        "last checkpoint).")],
    out: Annotated[Optional[Path], typer.Option(help="PNG file (default RUN/figures/MEASURE-across-training.png).")]
    = None,
) -> None:
    """Draw a measure across a run's kept checkpoints (train.keep_checkpoints_every), e.g. the embedding's circles."""
    from groklab import api

    try:
        typer.echo(str(api.plot_measure(run_dir, measure, out)))
    except user_errors() as err:
        _fail(err)


@app.command("cancel")
def cancel_cmd(
    runs_dir: Annotated[Path, typer.Argument(help="A run folder, a sweep folder or a folder of runs.")],
) -> None:
    """Cancel the queued or running SLURM jobs of the run folders here (what they wrote is kept: resume later)."""
    from groklab.launch.submit import cancel_runs

    cancelled = cancel_runs(runs_dir)
    for run_dir, job_id in cancelled:
        typer.echo(f"cancelled job {job_id}: {run_dir}")
    if not cancelled:
        typer.echo(f"no queued or running SLURM jobs under {runs_dir}")


@app.command("report")
def report_cmd(
    runs_dir: Annotated[Path, typer.Argument(help="A folder of runs (searched recursively).")] = DEFAULT_RUNS_DIR,
    out: Annotated[Path, typer.Option(help="Folder for report.md, report.html and figures/.")] = Path("report"),
) -> None:
    """Write a Markdown and a self-contained HTML status report across all runs."""
    from groklab import api

    try:
        md, page = api.report(runs_dir, out)
    except user_errors() as err:
        _fail(err)
    typer.echo(f"{md}\n{page}")


@app.command("import")
def import_cmd(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="lightning, sacred, tensorboard, csv or json.")],
    path: Annotated[Path, typer.Argument(help="The log: a file, or the tool's run/version folder.")],
    out: Annotated[Path, typer.Option(help="Run folder to create.")],
    mapping: Annotated[Optional[list[str]], typer.Option("--map", help="FIELD=COLUMN, e.g. test_acc=val/acc.")] = None,
) -> None:
    """Turn another tool's log into a groklab run folder (then analyze, status and report work on it)."""
    from groklab import api

    try:
        run_dir = api.import_run(fmt, path, out, mapping)
        result = api.analyze(run_dir)
    except user_errors() as err:
        _fail(err)
    from groklab.history import load_history

    typer.echo(f"imported {len(load_history(run_dir))} records; outcome {result.analysis.outcome}")
    typer.echo(str(run_dir))


@app.command("papers")
def papers_cmd(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/presets.md's table instead.")] = False,
) -> None:
    """List the paper presets with alias, citation, scales and reported outcome."""
    from groklab.presets import markdown_table, presets

    if markdown:
        typer.echo(markdown_table(presets()), nl=False)
        return
    table = Table("id", "alias", "citation", "scales", "reported")
    for preset in presets():
        table.add_row(preset.id, preset.alias, preset.citation, ", ".join(preset.scales), preset.reported.outcome)
    Console(width=200).print(table)


@app.command("show")
def show_cmd(
    preset: Annotated[str, typer.Argument(help="Preset id or alias.")],
    scale: Annotated[str, typer.Option(help="Scale to show.")] = "quick",
) -> None:
    """Print a preset's resolved config, citation, reported outcome and notes."""
    from groklab import api

    try:
        chosen = api.get_preset(preset)
        cfg = api.resolve(chosen.id, scale)
    except user_errors() as err:
        _fail(err)
    typer.echo(f"# {chosen.title}\n# {chosen.citation}  {chosen.url}\n# preset version {chosen.version}")
    typer.echo(f"# reported: {chosen.reported.outcome}: {chosen.reported.summary}")
    if chosen.quick_outcome:
        typer.echo(f"# the quick scale reaches: {chosen.quick_outcome}")
    for name, study in chosen.studies.items():
        typer.echo(f"# study {name} ({study.question}): groklab sweep {chosen.id} --scale {study.scale} "
                   + " ".join(api.study_arguments(study)))
    from groklab.config import config_to_dict

    typer.echo(json.dumps(config_to_dict(cfg), indent=2))
    typer.echo(chosen.notes)


@app.callback()
def options(verbose: Annotated[bool, typer.Option("--verbose", help="Also show other libraries' log lines.")] = False
            ) -> None:
    """groklab's own log lines (INFO and up) always reach stderr; other libraries' only at WARNING or with
    --verbose (TensorBoard's event reader, for one, logs at INFO)."""
    logging.getLogger().setLevel(logging.INFO if verbose else logging.WARNING)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("groklab").setLevel(logging.INFO)
    app()


if __name__ == "__main__":
    main()
