"""A stand-in for the `wandb` module, put first on PYTHONPATH when benchmarks/peer_speed.py runs a peer's
unchanged training script: it records every logged metric in $PEER_LOG (JSON lines, with the seconds since the
process started) and ends the process as soon as a logged validation accuracy reaches $PEER_TARGET.

It implements what danielmamay/grokking (27bd524 and 9988f8d) call: init(config=...), config, define_metric,
log(metrics, step=None, commit=True) and run.step. Real wandb would add its own cost, so the peers timed through
this stand-in are, if anything, faster than they are in use.
"""

from __future__ import annotations

import json
import os
import time
from argparse import Namespace
from types import SimpleNamespace

_STARTED = float(os.environ.get("PEER_STARTED", time.time()))
_TARGET = float(os.environ.get("PEER_TARGET", "0.99"))
_LOG = open(os.environ.get("PEER_LOG", os.devnull), "a")  # noqa: SIM115 (kept open for the whole process)
_pending: dict = {}
run: SimpleNamespace | None = None
config: SimpleNamespace | None = None


def init(project: str | None = None, config: dict | Namespace | None = None, **_: object) -> SimpleNamespace:
    global run
    values = vars(config) if isinstance(config, Namespace) else dict(config or {})
    globals()["config"] = SimpleNamespace(**values)
    run = SimpleNamespace(step=0, config=globals()["config"])
    return run


def define_metric(*_: object, **__: object) -> None:
    """Metric definitions only shape wandb's charts."""


def _number(value: object) -> float:
    return float(value.item()) if hasattr(value, "item") else float(value)


def log(metrics: dict, step: int | None = None, commit: bool = True) -> None:
    """Record metrics; the record is written (and the run's step advances) on commit, as wandb does. A
    validation accuracy at or above the target ends the process at once, committed or not."""
    _pending.update({key: _number(value) for key, value in metrics.items()})
    if step is not None:
        run.step = step
    reached = _pending.get("validation/accuracy", 0.0) >= _TARGET
    if not (commit or reached or step is not None):
        return
    record = {"step": run.step, "seconds": time.time() - _STARTED, **_pending}
    _LOG.write(json.dumps(record) + "\n")
    _pending.clear()
    if reached:
        _LOG.write(json.dumps({"reached": _TARGET, "step": record["step"], "seconds": record["seconds"]}) + "\n")
        _LOG.flush()
        os._exit(0)
    if step is None:
        run.step += 1
