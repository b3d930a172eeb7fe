"""The replay of ironjr/grokfast (lee2024_grokfast, canonical): main.py's Decoder and its minibatches."""

from __future__ import annotations

from groklab.config.schema import RunConfig
from groklab.fidelity import Arrays, Replay, multihead_attention, op_eq_swapped, pairs_split


def _grokfast_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """ironjr/grokfast main.py's Decoder -> groklab's. Its position table has 5 rows for 4 input tokens (the
    fifth is never used) and keeps the first 4."""
    swap = op_eq_swapped(cfg.task.p)
    out = {"embed.weight": init["token_embeddings.weight"][swap], "pos": init["position_embeddings.weight"][:4],
           "unembed.weight": init["head.weight"][swap], "final_norm.weight": init["ln_f.weight"],
           "final_norm.bias": init["ln_f.bias"]}
    for i in range(cfg.model.n_layers):
        theirs, ours = f"layers.{i}.", f"blocks.{i}."
        out |= multihead_attention(init, theirs + "attn.", ours + "attn.", ("weight", "bias"))
        for kind in ("weight", "bias"):
            out |= {f"{ours}mlp.{j}.{kind}": init[f"{theirs}mlp.{j}.{kind}"] for j in (0, 2)}
            out |= {f"{ours}ln{j}.{kind}": init[f"{theirs}ln_{j}.{kind}"] for j in (1, 2)}
    return out


REPLAY = Replay(
    "lee2024_grokfast", "canonical", original=(), split=pairs_split, weights=_grokfast_weights, minibatches=True,
)
