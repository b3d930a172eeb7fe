"""Progress display on stderr: a rich bar with step, accuracies and ETA, or plain lines when not a terminal."""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class ProgressReporter:
    """Shows training progress; updated once per evaluation (and cheaply per step on a terminal)."""

    def __init__(self, label: str, total: int, start: int, enabled: bool = True) -> None:
        self.enabled = enabled
        self.total, self.start = total, start
        self.interactive = enabled and sys.stderr.isatty()
        self._last_line = 0.0
        self._t0 = time.monotonic()
        self._bar: Progress | None = None
        if self.interactive:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[metrics]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self._task = self._bar.add_task(label, total=total, completed=start, metrics="")
            self._bar.start()
        elif enabled:
            print(f"{label}: training steps {start}..{total}", file=sys.stderr, flush=True)

    def step(self, step: int) -> None:
        if self._bar is not None and step % 20 == 0:
            self._bar.update(self._task, completed=step)

    def evaluated(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        metrics = f"train {record['train_acc']:.3f}  test {record['test_acc']:.3f}"
        if self._bar is not None:
            self._bar.update(self._task, completed=record["step"], metrics=metrics)
            return
        now = time.monotonic()
        if now - self._last_line >= 10 or record["step"] == self.total:
            done = record["step"] - self.start
            eta = f"{(now - self._t0) / done * (self.total - record['step']):.0f}s" if done else "?"
            print(f"step {record['step']}/{self.total}  {metrics}  eta {eta}", file=sys.stderr, flush=True)
            self._last_line = now

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
