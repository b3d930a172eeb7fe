"""The replay of Omnigrok's MNIST notebook (liu2022_omnigrok, canonical): the preset's own data, the notebook's
batches and MLP."""

from __future__ import annotations

from groklab.config.schema import RunConfig
from groklab.fidelity import Reference, Replay, sequential_mlp_weights
from groklab.tasks import TaskData, build_task


def _own_task(ref: Reference, cfg: RunConfig) -> TaskData:
    """The preset's own task data, for originals that take a fixed subset (Omnigrok: the first 1000 MNIST
    training images, the whole test set); the recorded batches index its training rows."""
    return build_task(cfg.task, cfg.seed)


REPLAY = Replay(
    "liu2022_omnigrok", "canonical", original=(), split=_own_task, weights=sequential_mlp_weights, minibatches=True,
)
