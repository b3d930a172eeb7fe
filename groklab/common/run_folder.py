"""The run folder: the names of its files (docs/history.md describes what each holds), the one vocabulary of a
run's state, status.json, and finding run folders and reading their state (no training, no analysis)."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from groklab.common.files import json_text, overwrite_in_place, write_atomic

CONFIG_FILE = "config.yaml"  # the resolved config, written before training
SOURCE_FILE = "source.json"  # an imported log's description, in place of config.yaml
HISTORY_FILE = "history.jsonl"  # one record per evaluation, appended
STATUS_FILE = "status.json"  # state, step, ETA; rewritten as training goes
CHECKPOINTS_DIR = "checkpoints"
ANALYSIS_FILE = "analysis.json"  # written by analysis
TRAINING_HISTORY_FILE = "training_history.json"  # the history as columns, for other tools
FIGURES_DIR = "figures"
LOCK_FILE = "owner.lock"  # held (flock) by the one process training in the folder; names it
JOB_FILE = "slurm.json"  # the SLURM job that trains the folder (--executor slurm)

# What status.json says; the trainer writes it as it goes.
State = Literal["queued", "running", "completed", "failed", "diverged", "preempted"]
STATES = get_args(State)
FINISHED = ("completed", "diverged")  # a run that ended by itself: reused, never trained again
# What a reader concludes beyond status.json: `stopped`, its process or SLURM job is gone; `unknown`, no readable
# status.json; `imported`, a log read in from another tool.
Seen = State | Literal["stopped", "unknown", "imported"]
_NUMBER_FIELDS = ("step", "total_steps", "pid", "train_acc", "test_acc", "eta_s", "updated_at")
_TEXT_FIELDS = ("host", "device", "error", "stopped_early", "signal")


def write_status(run_dir: Path, state: State, in_place: bool = False, **fields: Any) -> None:
    """Merge `fields` into status.json with the given state and a fresh heartbeat (`in_place`: over the old file,
    needing no new space on a full disk, instead of atomically)."""
    status = read_status(run_dir) or {}
    if state != "failed":
        status.pop("error", None)  # a resumed run is no longer the failure it was
    if state != "preempted":
        status.pop("signal", None)
    status.update(fields, state=state, updated_at=time.time(), pid=os.getpid(), host=socket.gethostname())
    (overwrite_in_place if in_place else write_atomic)(run_dir / STATUS_FILE, json_text(status))


def read_status(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / STATUS_FILE
    if not path.is_file():
        return None
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):  # cut short by a kill, or not ours: the state is unknown
        return None
    if not isinstance(status, dict):
        return None
    return {key: value for key, value in status.items() if _well_typed(key, value)}


def _well_typed(key: str, value: Any) -> bool:
    """Whether a status.json field has the type groklab writes (a damaged or foreign field is left out)."""
    if key == "state":
        return value in STATES
    if key in _NUMBER_FIELDS:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return key not in _TEXT_FIELDS or isinstance(value, str)


def find_runs(root: Path) -> list[Path]:
    """Run folders (holding a config.yaml, or the source.json of an imported log) at or below `root`."""
    markers = (CONFIG_FILE, SOURCE_FILE)
    if any((root / m).is_file() for m in markers):
        return [root]
    return sorted({p.parent for m in markers for p in root.rglob(m) if CHECKPOINTS_DIR not in p.parts})


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RunState:
    """What status.json says, corrected for runs whose process is gone."""

    state: Seen
    step: int | None
    total_steps: int | None
    train_acc: float | None
    test_acc: float | None
    eta_s: float | None
    note: str = ""


def run_state(run_dir: Path) -> RunState:
    status: dict[str, Any] = read_status(run_dir) or {}
    state, note = status.get("state", "unknown"), status.get("error") or status.get("stopped_early", "")
    if status.get("stopped_early") and state == "completed":
        note = f"stopped early: {note}"
    if state == "preempted":
        note = (f"stopped by {status.get('signal', 'a signal')} with a checkpoint at step {status.get('step')}: "
                "resume with `groklab run --resume`")
    if state == "running":
        same_host = status.get("host") == socket.gethostname()
        if same_host and status.get("pid") and not _process_alive(status["pid"]):
            state, note = "stopped", "its process is gone (killed?): resume with `groklab run --resume`"
        elif time.time() - status.get("updated_at", time.time()) > 3600:
            note = "no heartbeat for over an hour"
    return RunState(state, status.get("step"), status.get("total_steps"), status.get("train_acc"),
                    status.get("test_acc"), status.get("eta_s") if state == "running" else None, note)


def point_state(run_dir: Path) -> Literal["new", "finished", "unfinished"]:
    """What a launcher does with the folder: 'new' (nothing there: train), 'finished' (reuse), or 'unfinished'
    (killed or stopped: resume)."""
    if not (run_dir / CONFIG_FILE).is_file():
        return "new"
    return "finished" if run_state(run_dir).state in FINISHED else "unfinished"
