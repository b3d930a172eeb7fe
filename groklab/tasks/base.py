"""What every task builder returns, and the registry builders add themselves to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from groklab.registry import Registry


@dataclass(frozen=True)
class TaskData:
    """Train and test tensors plus the shapes a model needs to be built.

    Inputs are token ids of shape [n, seq_len] (or real features [n, d_in] for regression tasks);
    targets are class ids of shape [n], or real targets [n, n_classes] for regression tasks. With a
    `pad_token`, sequences are right-padded and the answer is predicted at the last non-pad position.
    `eval_splits` are further named (x, y) sets evaluated and recorded next to train and test.
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    vocab_size: int
    seq_len: int
    n_classes: int
    pad_token: int | None = None
    eval_splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)

    @property
    def chance_accuracy(self) -> float:
        return 1.0 / self.n_classes

    def to(self, device: torch.device) -> TaskData:
        move = {k: getattr(self, k).to(device) for k in ("train_x", "train_y", "test_x", "test_y")}
        splits = {name: (x.to(device), y.to(device)) for name, (x, y) in self.eval_splits.items()}
        return TaskData(**move, vocab_size=self.vocab_size, seq_len=self.seq_len, n_classes=self.n_classes,
                        pad_token=self.pad_token, eval_splits=splits)


TASKS: Registry[Callable[[Any, int], TaskData]] = Registry("task")
