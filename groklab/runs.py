"""Finding run folders and reading their state (no training, no analysis)."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groklab.common.run_files import CHECKPOINTS_DIR, CONFIG_FILE, SOURCE_FILE
from groklab.common.status import read_status


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

    state: str
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
