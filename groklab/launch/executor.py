"""Where run folders train: `Local` (here, in worker processes) or `Slurm` (as a job array). Both take the same
jobs (a config and its run folder), refuse a folder trained with another config, and leave finished runs alone,
so a study or a single run chooses where it executes with one parameter."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal, Union

from groklab.common.files import make_folder
from groklab.config import ConfigError, RunConfig
from groklab.launch import SubmissionError
from groklab.launch.slurm import SlurmResources, require_scheduler, submit, time_limit_min
from groklab.launch.submit import Submission, estimate_all, live_jobs, prepare, submit_run
from groklab.run.execute import RunHandle, run_batched, run_or_reuse
from groklab.run.execute import run as run_here
from groklab.run.folder import check_reusable, new_run_dir, point_state

Job = tuple[RunConfig, Path]  # a config and the run folder it trains in
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


def train_outcome(cfg: RunConfig, run_dir: Path) -> str:
    """Train, resume or reuse `run_dir` with `cfg` (no progress display); the outcome of its analysis."""
    return run_or_reuse(cfg, run_dir, show_progress=False).analysis.outcome


def train_outcomes(jobs: list[Job]) -> dict[Path, str]:
    """Train one job (train_outcome), or several new run folders whose configs stack as one batched computation;
    {run folder: outcome}."""
    if len(jobs) == 1:
        cfg, run_dir = jobs[0]
        return {run_dir: train_outcome(cfg, run_dir)}
    run_dirs = [new_run_dir(cfg, run_dir) for cfg, run_dir in jobs]
    handles = run_batched([cfg for cfg, _ in jobs], run_dirs, show_progress=False)
    return {handle.run_dir: handle.result.analysis.outcome for handle in handles}


def stacks(jobs: list[Job]) -> list[list[Job]]:
    """`jobs` grouped for train_outcomes: new folders whose configs can be one batched computation (equal
    stack keys) form one group; a folder to resume, or a config that cannot be batched, is a group of its own."""
    from groklab.train.batched import stack_key, unbatchable_reason

    groups: dict[str, list[Job]] = {}
    for cfg, run_dir in jobs:
        alone = point_state(run_dir) != "new" or unbatchable_reason(cfg) is not None
        groups.setdefault(str(run_dir) if alone else stack_key(cfg), []).append((cfg, run_dir))
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
    for cfg, run_dir in jobs:
        check_reusable(run_dir, cfg)
    return [(cfg, run_dir) for cfg, run_dir in jobs if point_state(run_dir) != "finished"]


@dataclass(frozen=True)
class Local:
    """Train on this machine, `workers` runs at a time; with `batched`, the new runs whose configs differ only in
    per-member values (seed, learning rates, weight decays, initial scale, training subset) as one batched
    computation per group, the groups `workers` at a time."""

    workers: int = 1
    batched: bool = False

    def launch(self, jobs: list[Job], name: str, report: Report, noun: str = "runs") -> dict[Path, str]:
        """Train (or resume) every unfinished job; {run folder: outcome, 'skipped' or 'failed: why'}."""
        todo = unfinished(jobs)
        results = {run_dir: "skipped" for _, run_dir in jobs}
        groups = shared_among(stacks(todo), self.workers) if self.batched else [[job] for job in todo]
        workers = max(1, min(self.workers, len(groups)))
        batched = f" as {len(groups)} batched computation(s)" if self.batched else ""
        report(f"{name}: {len(jobs)} {noun}, {len(jobs) - len(todo)} already finished, {len(todo)} to run{batched} "
               f"with {workers} worker(s)")
        done = len(jobs) - len(todo)

        def finished(label: str, result: Any, seconds: float) -> None:
            nonlocal done
            failed = isinstance(result, Exception)
            timing = "" if failed else f" ({seconds:.0f} s{' together' if len(labels[label]) > 1 else ''})"
            for run_dir in labels[label]:
                done += 1
                results[run_dir] = f"failed: {type(result).__name__}: {result}" if failed else result[run_dir]
                report(f"[{done}/{len(jobs)}] {run_dir.name}: {results[run_dir]}{timing}")

        labels = {"\n".join(str(run_dir) for _, run_dir in group): [run_dir for _, run_dir in group]
                  for group in groups}
        in_processes(train_outcomes, {label: (group,) for label, group in zip(labels, groups, strict=True)},
                     workers, finished)
        return results


@dataclass(frozen=True)
class Slurm:
    """Submit to SLURM through submitit, one job per run (an array), time limits from a calibration."""

    resources: SlurmResources

    def launch(self, jobs: list[Job], name: str, report: Report, noun: str = "runs") -> Submission:
        """Submit every job that is neither finished nor queued or running; the same call again only
        resubmits what stopped. The jobs' logs go to `<parent of the first run folder>/slurm`, and the job array is
        named after that parent."""
        require_scheduler()
        todo = unfinished(jobs)
        live = live_jobs([run_dir for _, run_dir in todo])
        todo = [(cfg, run_dir) for cfg, run_dir in todo if run_dir not in live]
        report(f"{name}: {len(jobs)} {noun}, {len(live)} queued or running, {len(jobs) - len(todo) - len(live)} "
               f"finished, {len(todo)} to submit")
        if not todo:
            return Submission([], [], 0, None)
        estimates = estimate_all([cfg for cfg, _ in todo], self.resources.cpus_per_task)
        longest = max(estimates, key=lambda e: e.total_s)
        limit = time_limit_min(longest.total_s, self.resources, f"the longest of the {noun} of {name}")
        report(f"calibration: longest of the {noun} {longest.describe()}; time limit {limit} min")
        for cfg, run_dir in todo:
            if point_state(run_dir) == "new":
                make_folder(run_dir)
                prepare(cfg, run_dir)
        run_dirs = [run_dir for _, run_dir in todo]
        folder = run_dirs[0].parent
        try:
            job_ids = submit(run_dirs, self.resources, limit, folder / "slurm", f"groklab-{folder.name}")
        except SubmissionError as err:
            raise SubmissionError(f"{err} (the prepared runs stay in {folder}: the same command submits them "
                                  "again)") from err
        return Submission(run_dirs, job_ids, limit, longest)


Executor = Union[Local, Slurm]


def executor_for(executor: Literal["local", "slurm"] | Executor, resources: SlurmResources | None = None,
                 workers: int = 1, batched: bool = False) -> Executor:
    """An executor from its name ('local' with `workers` and `batched`, 'slurm' with `resources`) or as given."""
    if batched and (executor == "slurm" or isinstance(executor, Slurm)):
        raise ConfigError(["--batched trains the points here as one computation; on SLURM each point is its own "
                           "job: drop --batched, or use --executor local"])
    if isinstance(executor, (Local, Slurm)):
        return executor
    if executor == "local":
        return Local(workers, batched)
    if executor == "slurm":
        return Slurm(resources or SlurmResources())
    raise ConfigError([f"unknown executor '{executor}': choose local or slurm"])


def run(cfg: RunConfig, out: Path | None = None, show_progress: bool = True, tensorboard: bool = False,
        executor: Literal["local", "slurm"] | Executor = "local",
        resources: SlurmResources | None = None) -> RunHandle | Submission:
    """Train `cfg` into a new run folder: here (then analyze it and draw its figures: a RunHandle), or with
    executor='slurm' as one SLURM job (a Submission; `groklab status` follows it)."""
    chosen = executor_for(executor, resources)
    if isinstance(chosen, Slurm):
        return submit_run(cfg, chosen.resources, out)
    return run_here(cfg, out, show_progress, tensorboard)
