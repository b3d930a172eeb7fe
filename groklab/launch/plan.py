"""What a command trains, as a plan: stages of jobs (a config and its run folder) launched one stage after another
on one executor. A stage's jobs may train at the same time; a later stage may be built from the finished runs of
the earlier ones (tickets: the mask and the matched norm come from the dense run).

Every folder of the stages known up front is checked against its config before anything trains (a folder trained
with another config is refused); then each job is new (trained), unfinished (resumed), finished (reused) or, on
SLURM, queued or running (left alone). The same command again therefore continues a plan wherever it stopped: a
killed driver, a failed run, a job SLURM cancelled.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from groklab.common.run_folder import ANALYSIS_FILE, point_state, run_state
from groklab.config import RunConfig
from groklab.launch import JobError
from groklab.launch.executor import Executor, Job, Local, Report, executor_for, unfinished
from groklab.launch.slurm import SlurmResources, job_of
from groklab.launch.submit import Submission, wait
from groklab.resolve import derive
from groklab.run.analysis import analyze
from groklab.run.execute import RunHandle
from groklab.run.execute import run as run_here
from groklab.run.folder import new_run_dir


@dataclass(frozen=True)
class Stage:
    """Jobs that may train at the same time: given, or built by `build` once the earlier stages are finished."""

    name: str
    jobs: list[Job] = field(default_factory=list)
    build: Callable[[], list[Job]] | None = None

    def resolved(self) -> list[Job]:
        return self.build() if self.build is not None else self.jobs


@dataclass(frozen=True)
class Plan:
    name: str  # what the progress lines call it: "suite runs/suite-quick"
    stages: list[Stage]
    noun: str = "runs"


@dataclass
class PlanResult:
    """What launching a plan did: each run's outcome as far as it is known here ('finished': reused; the
    exception a run failed with; on SLURM without waiting: nothing), the SLURM submissions, and why the plan
    stopped before its end (None: it ran through)."""

    outcomes: dict[Path, str | Exception] = field(default_factory=dict)
    submissions: list[Submission] = field(default_factory=list)
    stopped: str | None = None

    @property
    def failed(self) -> dict[Path, Exception]:
        return {run_dir: err for run_dir, err in self.outcomes.items() if isinstance(err, Exception)}

    def raise_failure(self) -> None:
        """Raise the error of the first run that failed, if any (for callers that train in this process)."""
        for err in self.failed.values():
            raise err


def execute(plan: Plan, executor: Executor, report: Report, wait_for_jobs: bool = False) -> PlanResult:
    """Launch `plan`'s stages one after another on `executor`. Locally each stage trains to its end; on SLURM each
    is submitted as one job array, and a stage that later stages are built from (or, with `wait_for_jobs`, every
    stage) is waited for; without waiting the plan stops there and says how to go on."""
    for stage in plan.stages:  # every refusal before any work
        unfinished(stage.jobs)
    result = PlanResult()
    for index, stage in enumerate(plan.stages):
        jobs = stage.resolved()
        later = [s.name for s in plan.stages[index + 1:]]
        title = f"{plan.name}: {stage.name}" if len(plan.stages) > 1 else plan.name
        if isinstance(executor, Local):
            result.outcomes |= executor.launch(jobs, title, report, plan.noun)
            failed = [job.run_dir for job in jobs if job.run_dir in result.failed]
            if failed and later:
                result.stopped = (f"{len(failed)} of the {plan.noun} of {stage.name} failed, so {', '.join(later)} "
                                  "did not start: once the cause is fixed the same command resumes them")
                break
            continue
        result.submissions.append(executor.launch(jobs, title, report, plan.noun))
        if not (wait_for_jobs or later):
            pending = [job for job in jobs if point_state(job.run_dir) != "finished"]
            if pending:
                result.stopped = (f"{len(pending)} {plan.noun} of {stage.name} are on SLURM: `groklab status` "
                                  "follows them; the same command again, once they end, reads them (and resubmits "
                                  "what stopped)")
                break
            continue
        result.outcomes |= wait_for_runs([job.run_dir for job in jobs], report)
        unfinished_now = [job.run_dir for job in jobs if job.run_dir in result.failed]
        if unfinished_now:
            result.stopped = (f"{len(unfinished_now)} {plan.noun} of {stage.name} ended unfinished on SLURM "
                              f"(e.g. {unfinished_now[0]}){': ' + ', '.join(later) + ' did not start' if later else ''}"
                              "; the same command again resubmits them")
            break
    return result


def wait_for_runs(run_dirs: list[Path], report: Report) -> dict[Path, str | Exception]:
    """Block until the SLURM jobs of `run_dirs` end (this driver's submissions or an earlier one's; three times
    their limit at most, for requeues and queueing, plus ten minutes); each folder's outcome, or the error of a
    job that ended without finishing its run."""
    records = {run_dir: record for run_dir in run_dirs if (record := job_of(run_dir))}
    job_ids = {run_dir: record["job_id"] for run_dir, record in records.items()}
    limit_min = max((record.get("time_limit_min", 10) for record in records.values()), default=0)
    states = wait(list(job_ids.values()), limit_min * 60 * 3 + 600)
    outcomes: dict[Path, str | Exception] = {}
    for run_dir in run_dirs:
        analysis = run_dir / ANALYSIS_FILE  # written by the job once it finished training
        state = states.get(job_ids.get(run_dir, ""), "not submitted")
        if point_state(run_dir) == "finished" and analysis.is_file():
            outcomes[run_dir] = json.loads(analysis.read_text())["outcome"]
        else:
            outcomes[run_dir] = JobError(f"{run_dir}: its SLURM job ended {state} before the run finished; the "
                                          "same command resubmits it (its log: the log_dir in its slurm.json)")
        report(f"job {job_ids.get(run_dir, '-')}: {state}  outcome {outcomes[run_dir]}  {run_dir}")
    return outcomes


def run(cfg: RunConfig, out: Path | None = None, show_progress: bool = True, tensorboard: bool = False,
        executor: Literal["local", "slurm"] | Executor = "local",
        resources: SlurmResources | None = None) -> RunHandle | Submission:
    """One run: a plan of one job. Here it trains in this process (with its progress display and the TensorBoard
    mirror; then it is analyzed and its figures drawn) and its handle comes back; on SLURM it is one job (a
    Submission; `groklab status` follows it)."""
    chosen = executor_for(executor, resources)
    if isinstance(chosen, Local):
        return run_here(cfg, out, show_progress, tensorboard)
    run_dir = new_run_dir(cfg, out)
    return chosen.launch([Job(cfg, run_dir)], f"{cfg.preset or 'run'} ({cfg.scale})", lambda line: None)


def run_seeds(cfg: RunConfig, seeds: int, out: Path | None = None, show_progress: bool = True) -> list[RunHandle]:
    """Seeds cfg.seed .. cfg.seed + seeds - 1 as a plan of one stage, each into its own run folder (`out`/s<seed>,
    or the usual fresh folder), trained here as one batched computation when the config allows it (else one
    after another); their handles."""
    configs = [derive(cfg, {"seed": cfg.seed + i}) for i in range(seeds)]
    jobs = [Job(c, new_run_dir(c, out / f"s{c.seed}" if out else None), stackable=True) for c in configs]
    result = execute(Plan(f"{cfg.preset or 'run'} ({cfg.scale}), {seeds} seeds", [Stage("seeds", jobs)]),
                     Local(1, show_progress), logging.getLogger(__name__).info)
    result.raise_failure()
    return [RunHandle(job.run_dir, run_state(job.run_dir).state, analyze(job.run_dir, write=False))
            for job in jobs]
