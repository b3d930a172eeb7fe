"""The replay of d-doshi/Grokking (doshi2024_polynomials, canonical): its labelled pairs and its x^2 network."""

from __future__ import annotations

from groklab.config.schema import RunConfig
from groklab.fidelity import Arrays, Reference, Replay, modular_split
from groklab.tasks import TaskData


def _labelled_pairs_split(ref: Reference, cfg: RunConfig) -> TaskData:
    a = ref.arrays
    return modular_split(cfg, a["train_pairs"], a["test_pairs"], a["train_labels"])


def _doshi_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """d-doshi/Grokking's fcn (fc1 on the concatenated one-hots, x^2, fc2; no biases) -> groklab's MLP."""
    return {"net.0.weight": init["fc1.weight"], "net.2.weight": init["fc2.weight"]}


REPLAY = Replay(
    "doshi2024_polynomials", "canonical", original=(), split=_labelled_pairs_split, weights=_doshi_weights,
)
