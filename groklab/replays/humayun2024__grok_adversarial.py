"""The replay of grok-adversarial (humayun2024, canonical): its MNIST rows, drawn with repeats, and its MLP."""

from __future__ import annotations

import numpy as np

from groklab.config.schema import RunConfig
from groklab.datasets.mnist import load_mnist
from groklab.fidelity import Reference, Replay, sequential_mlp_weights
from groklab.tasks import TaskData
from groklab.tasks.mnist import mnist_rows


def _mnist_rows_split(ref: Reference, cfg: RunConfig) -> TaskData:
    """The preset's MNIST task on the recorded training rows (grok-adversarial draws them with torch.randint,
    repeats included), with the preset's test images."""
    return mnist_rows(load_mnist(cfg.task.path), ref.arrays["train_rows"].astype(np.int64), cfg.task.n_test)


REPLAY = Replay(
    "humayun2024", "canonical", original=(), split=_mnist_rows_split, weights=sequential_mlp_weights,
    minibatches=True,
)
