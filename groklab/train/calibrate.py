"""A run's wall time, estimated from a few timed steps and one timed evaluation before it is submitted."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from groklab.config.schema import RunConfig
from groklab.train.schedule import eval_steps
from groklab.train.trainer import evaluate, resolve_device, set_up


@dataclass(frozen=True)
class WallTimeEstimate:
    """Measured set-up, per-step and per-evaluation seconds, and the run's step and evaluation counts."""

    setup_s: float
    step_s: float
    eval_s: float
    steps: int
    evaluations: int

    @property
    def total_s(self) -> float:
        return self.setup_s + self.steps * self.step_s + self.evaluations * self.eval_s

    def describe(self) -> str:
        return (f"{self.total_s / 60:.1f} min ({self.steps} steps x {self.step_s * 1e3:.1f} ms + "
                f"{self.evaluations} evaluations x {self.eval_s:.2f} s + set-up {self.setup_s:.1f} s)")


def estimate_wall_time(cfg: RunConfig, threads: int = 1, timed_steps: int = 20) -> WallTimeEstimate:
    """Time `timed_steps` optimization steps (after two untimed warm-up steps) and one evaluation of `cfg`
    on this machine with `threads` torch threads; nothing is written."""
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        start = time.perf_counter()
        data, training = set_up(cfg, resolve_device(cfg.device))
        setup_s = time.perf_counter() - start
        n = min(timed_steps, cfg.train.steps)
        for step in range(min(2, cfg.train.steps)):
            training.step(step)
        start = time.perf_counter()
        for step in range(n):
            training.step(step)
        step_s = (time.perf_counter() - start) / max(n, 1)
        start = time.perf_counter()
        evaluate(training.model, data, cfg, training.objective, training.order, 0, 0.0)
        eval_s = time.perf_counter() - start
    finally:
        torch.set_num_threads(previous_threads)
    return WallTimeEstimate(setup_s, step_s, eval_s, cfg.train.steps, len(eval_steps(cfg.train.steps, cfg.eval)))
