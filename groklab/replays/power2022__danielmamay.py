"""The replay of danielmamay/grokking (power2022, canonical): its split of (x*y) / y = x and its bias-free
Transformer."""

from __future__ import annotations

from groklab.config.schema import RunConfig
from groklab.fidelity import Arrays, Reference, Replay, modular_split, multihead_attention, op_eq_swapped
from groklab.tasks import TaskData


def _danielmamay_split(ref: Reference, cfg: RunConfig) -> TaskData:
    a = ref.arrays  # inputs [x*y, op, y, =] with label x: the equation (x*y) / y = x
    return modular_split(cfg, a["train_inputs"][:, [0, 2]], a["test_inputs"][:, [0, 2]], a["train_labels"])


def _danielmamay_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """danielmamay/grokking's Transformer (bias-free attention and MLP) -> groklab's."""
    swap, n_layers = op_eq_swapped(cfg.task.p), cfg.model.n_layers
    out = {"embed.weight": init["token_embeddings.weight"][swap], "pos": init["position_embeddings.weight"],
           "unembed.weight": init[f"layers.{n_layers}.weight"][swap]}
    for i in range(n_layers):
        theirs, ours = f"layers.{i}.", f"blocks.{i}."
        out |= multihead_attention(init, theirs + "self_attn.", ours + "attn.", ("weight",))
        out |= {f"{ours}mlp.{j}.weight": init[f"{theirs}ffn.{j}.weight"] for j in (0, 2)}
        for norm, ln in (("self_attn_norm", "ln1"), ("ffn_norm", "ln2")):
            out |= {f"{ours}{ln}.{kind}": init[f"{theirs}{norm}.{kind}"] for kind in ("weight", "bias")}
    return out


REPLAY = Replay(
    "power2022", "canonical", original=(), split=_danielmamay_split, weights=_danielmamay_weights, minibatches=True,
)
