"""status.json: the run's state, position and heartbeat, rewritten atomically."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any, Literal

from groklab.common.run_files import STATUS_FILE
from groklab.history.writer import atomic_write_text, json_text

State = Literal["queued", "running", "completed", "failed", "diverged"]


def write_status(run_dir: Path, state: State, **fields: Any) -> None:
    """Merge `fields` into status.json with the given state and a fresh heartbeat."""
    status = read_status(run_dir) or {}
    if state != "failed":
        status.pop("error", None)  # a resumed run is no longer the failure it was
    status.update(fields, state=state, updated_at=time.time(), pid=os.getpid(), host=socket.gethostname())
    atomic_write_text(run_dir / STATUS_FILE, json_text(status))


def read_status(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / STATUS_FILE
    if not path.is_file():
        return None
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):  # cut short by a kill, or not ours: the state is unknown
        return None
    return status if isinstance(status, dict) else None
