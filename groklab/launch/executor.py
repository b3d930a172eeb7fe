"""Where run folders train: `Local` (here, in worker processes) or `Slurm` (as a job array). Both take the same
jobs (a config and its run folder), refuse a folder trained with another config, and leave finished runs alone,
so a study or a single run chooses where it executes with one parameter."""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal, NamedTuple, Union

from groklab.common.files import make_folder
from groklab.common.run_folder import point_state
from groklab.config import ConfigError, RunConfig
from groklab.launch import SubmissionError
from groklab.launch.slurm import SlurmResources, require_scheduler, submit, time_limit_min
from groklab.launch.submit import Submission, estimate_all, live_jobs, prepare
from groklab.run.execute import run_batched, run_or_reuse
from groklab.run.folder import check_reusable, new_run_dir

Report = Callable[[str], None]


def in_processes(function: Callable[..., Any], arguments: dict[str, tuple], workers: int,
                 on_done: Callable[[str, Any, float], None]) -> None:
    """Call function(*arguments[label]) for every label, `workers` at a time, each call in a worker process with
    an equal share of the CPU threads (one worker: here, one after another); on_done(label, result or the
    exception it raised, seconds it took) as each ends. One failing call does not stop the others."""
    if workers == 1:
        for label, args in arguments.items():
            start = time.monotonic()
            try:
                result = function(*args)
            except Exception as err:  # noqa: BLE001  (reported; the next call resumes it)
                result = err
            on_done(label, result, time.monotonic() - start)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_timed, threads, function, *args): label for label, args in arguments.items()}
        for future in as_completed(futures):
            error = future.exception()
            result, seconds = (error, math.nan) if error else future.result()
            on_done(futures[future], result, seconds)


def _timed(threads: int, function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """In a worker process: function(*args) with `threads` torch threads, and the seconds it took."""
    import torch

    torch.set_num_threads(threads)
    start = time.monotonic()
    return function(*args), time.monotonic() - start


class Job(NamedTuple):
    """A config and the run folder it trains in; `stackable`: the command allows training it in one batched
    computation with other jobs whose configs differ only in per-member values (the executor decides)."""

    cfg: RunConfig
    run_dir: Path
    stackable: bool = False


def train_outcome(cfg: RunConfig, run_dir: Path, show_progress: bool = False) -> str:
    """Train, resume or reuse `run_dir` with `cfg`; the outcome of its analysis."""
    return run_or_reuse(cfg, run_dir, show_progress).analysis.outcome


def train_outcomes(jobs: list[Job], show_progress: bool = False) -> dict[Path, str]:
    """Train one job (train_outcome), or several new run folders whose configs stack as one batched computation;
    {run folder: outcome}."""
    if len(jobs) == 1:
        cfg, run_dir, _ = jobs[0]
        return {run_dir: train_outcome(cfg, run_dir, show_progress)}
    run_dirs = [new_run_dir(job.cfg, job.run_dir) for job in jobs]
    handles = run_batched([job.cfg for job in jobs], run_dirs, show_progress)
    return {handle.run_dir: handle.result.analysis.outcome for handle in handles}


def stacks(jobs: list[Job]) -> list[list[Job]]:
    """`jobs` grouped for train_outcomes: new stackable folders whose configs can be one batched computation
    (equal stack keys) form one group; a folder to resume, a job not stackable or a config that cannot be batched
    is a group of its own."""
    from groklab.train.batched import stack_key, unbatchable_reason

    groups: dict[str, list[Job]] = {}
    for job in jobs:
        alone = not job.stackable or point_state(job.run_dir) != "new" or unbatchable_reason(job.cfg) is not None
        groups.setdefault(str(job.run_dir) if alone else stack_key(job.cfg), []).append(job)
    return list(groups.values())


def shared_among(groups: list[list[Job]], workers: int) -> list[list[Job]]:
    """`groups` split into even chunks, each group into a share of the workers proportional to its size: a grid
    that stacks as one computation still keeps every worker busy, each worker with a stack of its own."""
    total = sum(len(group) for group in groups)
    chunks = []
    for group in groups:
        pieces = min(len(group), max(1, round(workers * len(group) / total)))
        chunks += [group[i::pieces] for i in range(pieces)]
    return chunks


def unfinished(jobs: list[Job]) -> list[Job]:
    """The jobs whose folder is not finished, after checking every folder against its config (all before any
    work: a folder trained with another config is refused)."""
    for job in jobs:
        check_reusable(job.run_dir, job.cfg)
    return [job for job in jobs if point_state(job.run_dir) != "finished"]


@dataclass(frozen=True)
class Local:
    """Train on this machine, `workers` runs at a time; the new stackable jobs whose configs differ only in
    per-member values (seed, learning rates, weight decays, initial scale, training subset) as one batched
    computation per group, the groups `workers` at a time. `show_progress`: the progress display of a run
    trained here in this process (one worker)."""

    workers: int = 1
    show_progress: bool = False

    def launch(self, jobs: list[Job], name: str, report: Report, noun: str = "runs") -> dict[Path, str | Exception]:
        """Train (or resume) every unfinished job; {run folder: its outcome, 'finished' (already), or the
        exception its training ended with (the other jobs go on)}."""
        todo = unfinished(jobs)
        results = {job.run_dir: "finished" for job in jobs}
        groups = shared_among(stacks(todo), self.workers)
        workers = max(1, min(self.workers, len(groups)))
        batched = f" as {len(groups)} batched computation(s)" if any(job.stackable for job in todo) else ""
        report(f"{name}: {len(jobs)} {noun}, {len(jobs) - len(todo)} already finished, {len(todo)} to run{batched} "
               f"with {workers} worker(s)")
        done = len(jobs) - len(todo)

        def finished(label: str, result: Any, seconds: float) -> None:
            nonlocal done
            failed = isinstance(result, Exception)
            timing = "" if failed else f" ({seconds:.0f} s{' together' if len(labels[label]) > 1 else ''})"
            for run_dir in labels[label]:
                done += 1
                results[run_dir] = result if failed else result[run_dir]
                said = f"failed: {type(result).__name__}: {result}" if failed else result[run_dir]
                report(f"[{done}/{len(jobs)}] {run_dir.name}: {said}{timing}")

        labels = {"\n".join(str(job.run_dir) for job in group): [job.run_dir for job in group] for group in groups}
        progress = self.show_progress and workers == 1
        in_processes(train_outcomes, {label: (group, progress) for label, group in zip(labels, groups, strict=True)},
                     workers, finished)
        return results


@dataclass(frozen=True)
class Slurm:
    """Submit to SLURM through submitit, one job per run (an array), time limits from a calibration."""

    resources: SlurmResources

    def launch(self, jobs: list[Job], name: str, report: Report, noun: str = "runs") -> Submission:
        """Submit every job that is neither finished nor queued or running; the same call again only
        resubmits what stopped. The jobs' logs go to `<parent of the first run folder>/slurm` (a single run's to
        its own folder), and the job array is named after that parent. A submission that fails leaves no folder
        it prepared behind (the same command prepares them again)."""
        require_scheduler()
        todo = unfinished(jobs)
        live = live_jobs([job.run_dir for job in todo])
        todo = [job for job in todo if job.run_dir not in live]
        report(f"{name}: {len(jobs)} {noun}, {len(live)} queued or running, {len(jobs) - len(todo) - len(live)} "
               f"finished, {len(todo)} to submit")
        if not todo:
            return Submission([], [], 0, None)
        run_dirs = [job.run_dir for job in todo]
        prepared = [job.run_dir for job in todo if point_state(job.run_dir) == "new"]
        single = len(jobs) == 1
        folder = run_dirs[0] if single else run_dirs[0].parent
        try:
            estimates = estimate_all([job.cfg for job in todo], self.resources.cpus_per_task)
            longest = max(estimates, key=lambda e: e.total_s)
            limit = time_limit_min(longest.total_s, self.resources,
                                   f"{todo[0].cfg.preset or 'this run'} ({todo[0].cfg.scale})" if single else
                                   f"the longest of the {noun} of {name}")
            report(f"calibration: longest of the {noun} {longest.describe()}; time limit {limit} min")
            for job in todo:
                if job.run_dir in prepared:
                    make_folder(job.run_dir)
                    prepare(job.cfg, job.run_dir)
            job_ids = submit(run_dirs, self.resources, limit, folder / "slurm",
                             f"groklab-{todo[0].cfg.preset or 'run'}" if single else f"groklab-{folder.name}")
        except BaseException as err:
            for run_dir in prepared:  # they hold only what prepare wrote
                shutil.rmtree(run_dir, ignore_errors=True)
            if isinstance(err, SubmissionError) and prepared:
                raise SubmissionError(f"{err} (the folders prepared for it were removed: the same command "
                                      "prepares and submits them again)") from err
            raise
        return Submission(run_dirs, job_ids, limit, longest)


Executor = Union[Local, Slurm]


def executor_for(executor: Literal["local", "slurm"] | Executor, resources: SlurmResources | None = None,
                 workers: int = 1, batched: bool = False, show_progress: bool = False) -> Executor:
    """An executor from its name ('local' with `workers`, 'slurm' with `resources`) or as given; the one place an
    impossible combination of options is refused."""
    if batched and (executor == "slurm" or isinstance(executor, Slurm)):
        raise ConfigError(["--batched trains the points here as one computation; on SLURM each point is its own "
                           "job: drop --batched, or use --executor local"])
    if isinstance(executor, (Local, Slurm)):
        return executor
    if executor == "local":
        return Local(workers, show_progress)
    if executor == "slurm":
        return Slurm(resources or SlurmResources())
    raise ConfigError([f"unknown executor '{executor}': choose local or slurm"])
