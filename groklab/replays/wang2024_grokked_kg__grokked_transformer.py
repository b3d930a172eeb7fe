"""The replay of GrokkedTransformer (wang2024_grokked_kg, quick): its facts in its token ids and its GPT-2."""

from __future__ import annotations

import numpy as np
import torch

from groklab.config.schema import RunConfig
from groklab.fidelity import Arrays, Reference, Replay
from groklab.tasks import TaskData

GROKKED_TRANSFORMER_END = "</a>"
GROKKED_TRANSFORMER_WIDTH = 4  # the longest input: a two-hop query <e_h> <r_1> <r_2> and its answer <e_t>


def _grokked_transformer_split(ref: Reference, cfg: RunConfig) -> TaskData:
    """GrokkedTransformer's facts `<e_h> <r_1> [<r_2>] <e_t> </a>` in its token ids (0, <|endoftext|>, pads them
    and serves as the replay's pad token), its training rows in its order and its held-out ID inferred facts.
    Checked: every inferred fact composes two training atomic facts, as the task defines it. Inputs end in the
    answer; the model is scored on the answer and </a> (`AnswerAndEnd`)."""
    end = ref.meta["vocabulary"].index(GROKKED_TRANSFORMER_END)
    facts = {split: ref.arrays[f"{split}_tokens"].astype(np.int64) for split in ("train", "test")}
    train = facts["train"]
    atomic = {(h, r): t for h, r, t in train[(train != 0).sum(1) == 4][:, :3].tolist()}
    width, vocab = GROKKED_TRANSFORMER_WIDTH, len(ref.init["lm.transformer.wte.weight"])
    x, y = {}, {}
    for split, rows in facts.items():
        length = (rows != 0).sum(1)
        if (rows[np.arange(len(rows)), length - 1] != end).any() or not np.isin(length, (4, 5)).all():
            raise ValueError(f"the recorded {split} rows are not facts ending in {GROKKED_TRANSFORMER_END}")
        if any(atomic.get((atomic.get((h, r1)), r2)) != t for h, r1, r2, t in rows[length == 5][:, :4].tolist()):
            raise ValueError(f"a recorded {split} inferred fact does not compose two training atomic facts")
        x[split] = torch.from_numpy(np.where(np.arange(width) < length[:, None] - 1, rows[:, :width], 0))
        answer = rows[np.arange(len(rows)), length - 2]
        y[split] = torch.from_numpy(np.stack([answer, np.full(len(rows), end)], axis=1))
    return TaskData(train_x=x["train"], train_y=y["train"], test_x=x["test"], test_y=y["test"],
                    vocab_size=vocab, seq_len=width, n_classes=vocab, pad_token=0)


def _gpt2_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """Hugging Face GPT2LMHeadModel (Conv1D weights stored [in, out]; one c_attn for q, k, v; lm_head tied to
    wte) -> groklab's pre-LN transformer with a final norm; its position table cut to groklab's sequence."""
    prefix, d_model = "lm.transformer.", cfg.model.d_model
    embed, positions = init[f"{prefix}wte.weight"], init[f"{prefix}wpe.weight"][:GROKKED_TRANSFORMER_WIDTH]
    out = {"embed.weight": embed, "unembed.weight": embed, "pos": positions,
           "final_norm.weight": init[f"{prefix}ln_f.weight"], "final_norm.bias": init[f"{prefix}ln_f.bias"]}
    for i in range(cfg.model.n_layers):
        theirs, ours = f"{prefix}h.{i}.", f"blocks.{i}."
        qkv_weight, qkv_bias = init[f"{theirs}attn.c_attn.weight"], init[f"{theirs}attn.c_attn.bias"]
        for j, name in enumerate("qkv"):
            out[f"{ours}attn.{name}.weight"] = qkv_weight[:, j * d_model:(j + 1) * d_model].T
            out[f"{ours}attn.{name}.bias"] = qkv_bias[j * d_model:(j + 1) * d_model]
        layers = {"attn.c_proj": "attn.out", "mlp.c_fc": "mlp.0", "mlp.c_proj": "mlp.2"}
        for conv, linear in layers.items():
            out[f"{ours}{linear}.weight"] = init[f"{theirs}{conv}.weight"].T
            out[f"{ours}{linear}.bias"] = init[f"{theirs}{conv}.bias"]
        for norm, ln in (("ln_1", "ln1"), ("ln_2", "ln2")):
            out |= {f"{ours}{ln}.{kind}": init[f"{theirs}{norm}.{kind}"] for kind in ("weight", "bias")}
    return out


REPLAY = Replay(
    "wang2024_grokked_kg", "quick", original=(), split=_grokked_transformer_split, weights=_gpt2_weights,
    minibatches=True, answer_and_end=True, tied_unembedding=True,
)
