"""Training a run folder: a new run, several seeds, a resume, or reusing what a folder already holds."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from groklab.common.files import WriteError
from groklab.common.run_folder import CONFIG_FILE, point_state, run_state, write_status
from groklab.config import ConfigError, RunConfig, dump_config, load_config
from groklab.probes import check_probes
from groklab.run.analysis import RunAnalysis, analyze
from groklab.run.folder import RunFolderBusy, check_reusable, new_run_dir, owned


@dataclass(frozen=True)
class RunHandle:
    run_dir: Path
    state: str  # "completed", "diverged", or "preempted" (stopped by `signal` with a checkpoint: resume it)
    result: RunAnalysis
    signal: str | None = None


def run(cfg: RunConfig, out: Path | None = None, show_progress: bool = True, tensorboard: bool = False) -> RunHandle:
    """Train `cfg` locally into a new run folder, then analyze it and draw its figures."""
    check_probes(cfg)
    run_dir = new_run_dir(cfg, out)
    try:
        dump_config(cfg, run_dir / CONFIG_FILE)
        write_status(run_dir, "queued", total_steps=cfg.train.steps)
    except WriteError as err:
        record_failure(run_dir, err)
        raise
    return _train_and_finish(cfg, run_dir, False, show_progress, tensorboard)


def run_batched(configs: list[RunConfig], run_dirs: list[Path], show_progress: bool = True) -> list[RunHandle]:
    """Train configs that differ only in per-member values (train.batched.MEMBER_FIELDS) into their new, empty run
    folders as one batched computation, then analyze each."""
    from groklab.train.batched import train_batched

    for c, run_dir in zip(configs, run_dirs, strict=True):
        check_probes(c)
        dump_config(c, run_dir / CONFIG_FILE)
        write_status(run_dir, "queued", total_steps=c.train.steps)
    with ExitStack() as stack:
        for run_dir in run_dirs:
            stack.enter_context(owned(run_dir))
        try:
            results = train_batched(configs, run_dirs, show_progress)
        except Exception as err:
            for run_dir in run_dirs:
                record_failure(run_dir, err)
            raise
    return [RunHandle(run_dir, result.state, analyze(run_dir), result.signal)
            for run_dir, result in zip(run_dirs, results, strict=True)]


def resume(run_dir: Path, show_progress: bool = True, tensorboard: bool = False) -> RunHandle:
    """Continue a killed or stopped run from its newest checkpoint, with the config it was started with."""
    if not (run_dir / CONFIG_FILE).is_file():
        raise ConfigError([f"{run_dir} is not a groklab run folder (no config.yaml)"])
    cfg = load_config(run_dir / CONFIG_FILE)
    if run_state(run_dir).state == "completed":  # e.g. stopped at train.stop_at_test_acc: nothing to continue
        return RunHandle(run_dir, "completed", analyze(run_dir))
    return _train_and_finish(cfg, run_dir, True, show_progress, tensorboard)


def _train_and_finish(cfg: RunConfig, run_dir: Path, resume: bool, show_progress: bool, tensorboard: bool) -> RunHandle:
    from groklab.train.trainer import train  # torch is imported only when training

    result = None
    try:
        with owned(run_dir):  # refused, before anything is written, while another process trains here
            result = train(cfg, run_dir, resume=resume, show_progress=show_progress, tensorboard=tensorboard)
            return RunHandle(run_dir, result.state, analyze(run_dir), result.signal)
    except RunFolderBusy:
        raise
    except Exception as err:  # not SystemExit or KeyboardInterrupt: a stopped run is resumable, not failed
        if result is None:
            record_failure(run_dir, err)
        elif isinstance(err, WriteError):
            err.next_step = f"`groklab analyze {run_dir}` writes the analysis again (the training is complete)"
        raise


def record_failure(run_dir: Path, err: Exception) -> None:
    """Mark the run failed with the reason, as far as the folder can still be written. A file that could not be
    written gets the way on: resume once the cause is fixed (what was written before is whole), or, when not even
    config.yaml was written, the same command again (the folder is left empty for it)."""
    if not (run_dir / CONFIG_FILE).is_file():
        if isinstance(err, WriteError):
            err.next_step = "run the same command again (the run folder holds nothing yet)"
        return
    if isinstance(err, WriteError):
        err.next_step = f"`groklab run --resume {run_dir}` continues from the last checkpoint"
    for in_place in (False, True):  # on a full disk, over the old status.json where there is no room for a new one
        try:
            write_status(run_dir, "failed", in_place=in_place, error=f"{type(err).__name__}: {err}")
            return
        except WriteError as also:
            reason = also
    logging.getLogger(__name__).warning("the failure could not be recorded in %s either (%s)", reason.path,
                                        reason.cause)


def run_or_reuse(cfg: RunConfig, run_dir: Path, show_progress: bool = True) -> RunAnalysis:
    """The analysis of `run_dir` trained with `cfg`: reused if finished, resumed if killed or stopped, trained if
    new; refused when the folder holds a run of another config."""
    check_reusable(run_dir, cfg)
    state = point_state(run_dir)
    if state == "finished":
        return analyze(run_dir)
    handle = resume(run_dir, show_progress) if state == "unfinished" else run(cfg, run_dir, show_progress)
    return handle.result
