"""Sums of unordered number pairs (Liu et al. 2022, the toy model of the effective theory)."""

from __future__ import annotations

import torch

from groklab.common.seeding import generator
from groklab.config.task import PairSumTaskCfg
from groklab.tasks.base import TASKS, TaskData


def pairs(p: int) -> torch.Tensor:
    """All pairs (a, b) with 0 <= a <= b < p, shape [p(p+1)/2, 2]."""
    a, b = torch.triu_indices(p, p)
    return torch.stack([a, b], dim=1)


@TASKS.register("pair_sum")
def build_pair_sum(cfg: PairSumTaskCfg, seed: int) -> TaskData:
    """Seeded split of all pairs; inputs are the two numbers as tokens, the class is a + b."""
    inputs = pairs(cfg.p)
    sums = inputs.sum(1)
    order = torch.randperm(len(sums), generator=generator(seed, "split"))
    train, test = order[: cfg.n_train], order[cfg.n_train :]
    return TaskData(train_x=inputs[train], train_y=sums[train], test_x=inputs[test], test_y=sums[test],
                    vocab_size=cfg.p, seq_len=2, n_classes=cfg.n_classes)
