"""MNIST classification on a training subset (Liu et al. 2022 Omnigrok; Humayun et al. 2024)."""

from __future__ import annotations

import numpy as np
import torch

from groklab.common.seeding import generator
from groklab.config.task import MnistTaskCfg
from groklab.datasets.mnist import Mnist, load_mnist
from groklab.tasks.base import TASKS, TaskData


@TASKS.register("mnist")
def build_mnist(cfg: MnistTaskCfg, seed: int) -> TaskData:
    """Flattened images in [0, 1] as float32 [n, 784]; the subset is the first images or a seeded draw."""
    data = load_mnist(cfg.path)
    n_available = len(data.y_train)
    if cfg.n_train > n_available or cfg.n_test > len(data.y_test):
        raise ValueError(f"task asks for {cfg.n_train} train / {cfg.n_test} test images but the dataset has "
                         f"{n_available} / {len(data.y_test)}")
    rows = (torch.arange(cfg.n_train) if cfg.subset == "first"
            else torch.randperm(n_available, generator=generator(seed, "split"))[: cfg.n_train]).numpy()
    return mnist_rows(data, rows, cfg.n_test)


def mnist_rows(data: Mnist, train_rows: np.ndarray, n_test: int) -> TaskData:
    """The training images at `train_rows` (repeats allowed) and the first `n_test` test images, flattened and
    scaled to [0, 1] as float32."""
    pixels = lambda x: torch.from_numpy(x).float() / 255.0  # noqa: E731
    return TaskData(
        train_x=pixels(data.x_train[train_rows]), train_y=torch.from_numpy(data.y_train[train_rows]),
        test_x=pixels(data.x_test[:n_test]), test_y=torch.from_numpy(data.y_test[:n_test]),
        vocab_size=0, seq_len=784, n_classes=10,
    )
