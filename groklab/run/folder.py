"""A run folder for training: its creation, its one owner, its config, and whether an existing one can be reused
(its files, state and status.json are in groklab.common.run_folder)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from groklab.common.files import make_folder, writing
from groklab.common.run_folder import CONFIG_FILE, LOCK_FILE, SOURCE_FILE
from groklab.config import ConfigError, RunConfig, config_changes, load_config

DEFAULT_RUNS_DIR = Path("runs")


def new_run_dir(cfg: RunConfig, out: Path | None = None, runs_dir: Path = DEFAULT_RUNS_DIR) -> Path:
    """Create the run folder: `out` if given (refused if it exists and is not empty), else a fresh unique id."""
    if out is not None:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise FileExistsError(
                f"{out} already exists and is not empty; groklab never writes over a run. "
                f"Choose another --out, or resume it with `groklab run --resume {out}`"
            )
        make_folder(out)
        return out
    stamp = time.strftime("%Y%m%d-%H%M%S")
    parent = runs_dir / (cfg.preset or "custom")
    make_folder(parent)
    for attempt in range(1000):
        suffix = f"-{attempt}" if attempt else ""
        path = parent / f"{stamp}-{cfg.scale or 'custom'}-s{cfg.seed}{suffix}"
        try:
            with writing(path):
                os.mkdir(path)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"could not find a free run folder under {parent}")


class RunFolderBusy(FileExistsError):
    """Another process is training in the run folder."""


@contextmanager
def owned(run_dir: Path) -> Iterator[None]:
    """Hold the run folder while this process trains in it. A second process that would train the same folder
    (a second terminal, a local resume while the folder's SLURM job runs) is refused, naming the holder. The
    lock is the kernel's (flock on owner.lock), so a process that is killed releases it at once."""
    path = run_dir / LOCK_FILE
    with writing(path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "a process that did not say which"
        os.close(fd)
        raise RunFolderBusy(f"{run_dir} is being trained by another process ({holder}); one process owns a run "
                            "folder at a time: wait for it to end (groklab status), or stop it first") from None
    try:
        previous = os.pread(fd, 4096, 0).decode(errors="replace").strip()
        if previous:  # written by an owner that never released the folder: it was killed
            logging.getLogger(__name__).warning("taking over %s from %s, which ended without releasing it (killed?)",
                                                run_dir, previous)
        with writing(path):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}"
                      "\n".encode(), 0)
        yield
    finally:
        with suppress(OSError):  # a folder that became read-only keeps the name; the next owner takes over
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def load_run(run_dir: Path) -> tuple[RunConfig | None, dict[str, Any] | None]:
    """A run folder's config (groklab runs) or source description (imported runs)."""
    if (run_dir / CONFIG_FILE).is_file():
        return load_config(run_dir / CONFIG_FILE), None
    if (run_dir / SOURCE_FILE).is_file():
        return None, json.loads((run_dir / SOURCE_FILE).read_text())
    raise ConfigError([f"{run_dir} is not a groklab run folder: it has no config.yaml (nor the source.json of an "
                       "imported log)"])


def check_reusable(run_dir: Path, cfg: Any) -> None:
    """Refuse to reuse or resume a run folder whose saved config differs from `cfg` (another preset version,
    a changed scale), naming what differs: its results would otherwise be mixed with this config's. The
    device does not count: it says where a run trains, not what it computes."""
    if not (run_dir / CONFIG_FILE).is_file():
        return
    changed = config_changes(load_config(run_dir / CONFIG_FILE), cfg)
    if changed:
        raise FileExistsError(
            f"{run_dir} was trained with a different config ({'; '.join(changed[:5])}"
            f"{'; ...' if len(changed) > 5 else ''}); groklab does not mix its results with this one: choose "
            "another --out, or move that folder away to retrain it"
        )

