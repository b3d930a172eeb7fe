"""The training step as one CUDA graph (train.cuda_graph): launch-free steps on a GPU.

The small models of the grokking papers leave a GPU idle: their steps are bound by kernel launches and Python,
not arithmetic (docs/performance.md). Here a run's update (forward, backward, gradient pipeline, optimizer
step, mask) is captured once with torch.cuda.graphs after a few eager warm-up steps, and replayed for every
later step. Before each replay, outside the graph, the step's learning rates are written into the optimizer's
device tensors and its minibatch into the graph's static input buffers; nothing in a step reads a value back
to the host, so the host waits for the device only when an evaluation writes a history record.

Works for a single run (`Training`) and for stacked seeds and sweep points (`StackedTraining`): both provide
`set_lr(step)`, `batch(step)`, `update(*batch)` and `make_capturable()`. Settings whose step is not a fixed
sequence of device work (SGD's host learning rate, Grokfast-MA's Python window, fixed_weight_norm's host
norm, a last minibatch of another size) are refused when the config is validated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import torch

from groklab.config.schema import RunConfig

log = logging.getLogger(__name__)

# eager steps before the capture, on a side stream, as torch's whole-network capture recipe does: they create
# the optimizer's and the gradient filter's state, which the graph then updates in place
WARMUP_STEPS = 3


class CapturableTraining(Protocol):
    def set_lr(self, step: int) -> None: ...
    def batch(self, step: int) -> tuple[torch.Tensor | None, ...]: ...
    def update(self, *batch: torch.Tensor | None) -> torch.Tensor: ...
    def make_capturable(self) -> None: ...
    def step(self, step: int) -> torch.Tensor: ...


def stepper(training: CapturableTraining, cfg: RunConfig, device: torch.device) -> CapturableTraining | GraphedStep:
    """What trains `training` one step at a time: its GraphedStep under train.cuda_graph on a CUDA device,
    else itself."""
    if not cfg.train.cuda_graph:
        return training
    if device.type != "cuda":
        log.info("train.cuda_graph: no CUDA device here (device=%s), the steps run eagerly", cfg.device)
        return training
    return GraphedStep(training)


class GraphedStep:
    """`training`'s step, eager for WARMUP_STEPS steps and then replayed as one captured CUDA graph; `step(i)`
    trains on minibatch i and returns its loss as a device tensor (overwritten by the next replay)."""

    def __init__(self, training: CapturableTraining) -> None:
        self.training = training
        training.make_capturable()
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_batch: tuple[torch.Tensor | None, ...] = ()
        self.static_loss: torch.Tensor | None = None
        self.eager_steps = 0
        # warm-up and capture on one side stream: libraries such as cuBLAS set up per-stream state on first use,
        # which must not happen during the capture
        self.side = torch.cuda.Stream()

    def step(self, step: int) -> torch.Tensor:
        self.training.set_lr(step)
        batch = self.training.batch(step)
        if self.graph is None and self.eager_steps < WARMUP_STEPS:
            self.eager_steps += 1
            return self._on_side_stream(lambda: self.training.update(*batch))
        if self.graph is None:
            self._capture(batch)
        else:
            for static, fresh in zip(self.static_batch, batch, strict=True):
                if static is not None:
                    static.copy_(fresh)
        self.graph.replay()
        return self.static_loss

    def _capture(self, batch: tuple[torch.Tensor | None, ...]) -> None:
        """Record one update on static copies of `batch` (capturing runs nothing: the caller replays it)."""
        self.static_batch = tuple(None if t is None else t.clone() for t in batch)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, stream=self.side):
            self.static_loss = self.training.update(*self.static_batch)

    def _on_side_stream(self, work: Callable[[], torch.Tensor]) -> torch.Tensor:
        self.side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(self.side):
            result = work()
        torch.cuda.current_stream().wait_stream(self.side)
        return result
