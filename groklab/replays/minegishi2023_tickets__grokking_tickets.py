"""The replay of Grokking-Tickets (minegishi2023_tickets, canonical): its OnlyMLP on the pairs a <= b."""

from __future__ import annotations

from groklab.config.schema import RunConfig
from groklab.fidelity import Arrays, Reference, Replay, modular_split
from groklab.tasks import TaskData


def _unordered_pairs_split(ref: Reference, cfg: RunConfig) -> TaskData:
    """Grokking-Tickets trains and tests on the pairs a <= b only (is_symmetric_input)."""
    return modular_split(cfg, ref.arrays["train_pairs"], ref.arrays["test_pairs"], partition=False)


def _grokking_tickets_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """Grokking-Tickets' OnlyMLP (W_E and W_U stored [d_emb, vocab]; x @ W_U) -> groklab's TokenSumMLP."""
    return {"embed.weight": init["embed.W_E"].T, "inproj.weight": init["inproj.W"],
            "outproj.weight": init["outproj.W"], "unembed.weight": init["unembed.W_U"].T}


REPLAY = Replay(
    "minegishi2023_tickets", "canonical", original=("train.loss_dtype=float64",), split=_unordered_pairs_split,
    weights=_grokking_tickets_weights,
    deviations={"task.n_train": "the preset trains on 40% of all ordered pairs (1795), where it groks; the code on "
                "40% of the unordered pairs a <= b (911), which the replay reads from the recording "
                "(docs/fidelity.md)"},
)
