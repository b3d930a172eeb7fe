"""The replay of grokking-squared (liu2022_effective, canonical): the addition table's pairs and its representation
MLP."""

from __future__ import annotations

from groklab.config.schema import RunConfig
from groklab.fidelity import Arrays, Reference, Replay, split_rows
from groklab.tasks import TaskData
from groklab.tasks.pair_sum import pairs


def _pair_sum_split(ref: Reference, cfg: RunConfig) -> TaskData:
    table = pairs(cfg.task.p)
    train, test = split_rows(table, ref.arrays["train_pairs"], ref.arrays["test_pairs"], cfg.task.describe())
    sums = table.sum(1)
    return TaskData(train_x=table[train], train_y=sums[train], test_x=table[test], test_y=sums[test],
                    vocab_size=cfg.task.p, seq_len=2, n_classes=cfg.task.n_classes)


def _grokking_squared_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """grokking-squared's reprs and DEC.net (l1, l2, l3 with tanh between) -> groklab's ReprMLP."""
    out = {"embed": init["reprs"]}
    for i, layer in enumerate(("l1", "l2", "l3")):
        out |= {f"decoder.{2 * i}.{kind}": init[f"net.{layer}.{kind}"] for kind in ("weight", "bias")}
    return out


REPLAY = Replay(
    "liu2022_effective", "canonical", original=(), split=_pair_sum_split, weights=_grokking_squared_weights,
    minibatches=True,
)
