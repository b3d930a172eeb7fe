"""The replay of progress-measures-paper (nanda2023, canonical): its full-batch training from its own weights."""

from __future__ import annotations

from groklab.config.schema import RunConfig
from groklab.fidelity import Arrays, Replay, pairs_split


def _progress_measures_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """progress-measures-paper's Transformer (weights stored [out, in] or transposed, heads as a leading axis)
    -> groklab's. With 113 answer outputs (the preset) the unembedding keeps its first 113 columns."""
    d_model = cfg.model.d_model
    out = {"embed.weight": init["embed.W_E"].T, "pos": init["pos_embed.W_pos"],
           "unembed.weight": init["unembed.W_U"].T[: cfg.task.n_classes]}
    for i in range(cfg.model.n_layers):
        block = f"blocks.{i}."  # the same prefix in both models
        out |= {block + f"attn.{n.lower()}.weight": init[block + f"attn.W_{n}"].reshape(-1, d_model) for n in "QKV"}
        out |= {block + "attn.out.weight": init[block + "attn.W_O"],
                block + "mlp.0.weight": init[block + "mlp.W_in"], block + "mlp.0.bias": init[block + "mlp.b_in"],
                block + "mlp.2.weight": init[block + "mlp.W_out"], block + "mlp.2.bias": init[block + "mlp.b_out"]}
    return out


REPLAY = Replay(
    "nanda2023", "canonical",
    original=("task.outputs=vocabulary", "optim.warmup_start=0", "train.loss_dtype=float32"),
    split=pairs_split, weights=_progress_measures_weights,
)
