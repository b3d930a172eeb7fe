"""status.json: the run's state, position and heartbeat, rewritten atomically."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any, Literal, get_args

from groklab.common.files import overwrite_in_place, write_atomic
from groklab.common.run_files import STATUS_FILE
from groklab.history.writer import json_text

State = Literal["queued", "running", "completed", "failed", "diverged", "preempted"]
STATES = get_args(State)
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
