"""Stop signals as checkpoints: SIGTERM (SLURM at the time limit, scancel, a preemption, `kill`), SIGUSR1 and SIGUSR2
(what SLURM's --signal sends before the limit; submitit asks for SIGUSR2) end training at the next step boundary,
after a checkpoint of that step, instead of killing it between checkpoints."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)


class Preemption:
    """While active (a `with` block in the main thread), notes the first stop signal instead of dying of it.

    On leaving, the previous handlers come back; a signal that arrived is then passed on to the handler that was
    there before when that is Python code (submitit's, which requeues the SLURM job), so whoever listened before
    still hears it. Under the default disposition it is not passed on: the caller reports the stop itself."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        self._previous: dict[int, Any] = {}

    @property
    def name(self) -> str | None:
        return self.signal.name if self.signal else None

    def _note(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is None:
            self.signal = signal.Signals(signum)
            log.warning("%s received: stopping after this step, with a checkpoint", self.signal.name)

    def __enter__(self) -> Preemption:
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread only
            self._previous = {s: signal.signal(s, self._note) for s in STOP_SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        previous = self._previous.get(self.signal) if self.signal else None
        if callable(previous) and exc[0] is None:
            previous(self.signal, None)
