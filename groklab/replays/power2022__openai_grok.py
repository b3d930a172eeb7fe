"""The replay of openai/grok (power2022's openai_grok scale): its 239-token rows, scored on the answer and the end
token."""

from __future__ import annotations

import numpy as np
import torch

from groklab.config.schema import RunConfig
from groklab.fidelity import Arrays, Reference, Replay, modular_split
from groklab.tasks import TaskData

OPENAI_GROK_NUMBERS = 22  # its vocabulary: <|eos|>, =, its 20 operator tokens, then the numbers 0..96
OPENAI_GROK_UNUSED = 238  # the last of its 120 S5 permutation tokens, in no x/y equation


def _openai_grok_split(ref: Reference, cfg: RunConfig) -> TaskData:
    """openai/grok's rows `<|eos|> x / y = c <|eos|>` over its 239-token vocabulary, in its order. The pairs and
    answers are checked against groklab's own x/y table; the model reads its input (the first six tokens) and is
    scored on c and the closing <|eos|> (`AnswerAndEnd`)."""
    train, test = (ref.arrays[f"{split}_tokens"].astype(np.int64) for split in ("train", "test"))
    numbers = OPENAI_GROK_NUMBERS
    modular_split(cfg, train[:, [1, 3]] - numbers, test[:, [1, 3]] - numbers, train[:, 5] - numbers)  # checks them
    if np.isin(np.concatenate([train, test]), OPENAI_GROK_UNUSED).any():
        raise ValueError(f"token {OPENAI_GROK_UNUSED}, the replay's pad token, occurs in the recorded rows")
    train, test = torch.from_numpy(train), torch.from_numpy(test)
    return TaskData(train_x=train[:, :6], train_y=train[:, 5:], test_x=test[:, :6], test_y=test[:, 5:],
                    vocab_size=239, seq_len=6, n_classes=239, pad_token=OPENAI_GROK_UNUSED)


def _openai_grok_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """openai/grok's Transformer (per-head Wq, Wk, Wv without biases, Wo, post-LN blocks, a bias-free output
    layer over its vocabulary) -> groklab's. Its sinusoidal positions are a buffer, compared in the tests."""
    out = {"embed.weight": init["transformer.embedding.weight"], "unembed.weight": init["transformer.linear.weight"]}
    for i in range(cfg.model.n_layers):
        theirs, ours = f"transformer.decoder.blocks.{i}.", f"blocks.{i}."
        for name in "qkv":
            out[f"{ours}attn.{name}.weight"] = np.concatenate([
                init[f"{theirs}self_attn.attn_heads.{h}.W{name}.weight"] for h in range(cfg.model.n_heads)])
        out[f"{ours}attn.out.weight"] = init[f"{theirs}self_attn.Wo.weight"]
        out |= {f"{ours}mlp.{j}.weight": init[f"{theirs}ffn.ffn.{j}.weight"] for j in (0, 2)}
        for norm, ln in (("self_attn_norm", "ln1"), ("ffn_norm", "ln2")):
            out |= {f"{ours}{ln}.{kind}": init[f"{theirs}{norm}.{kind}"] for kind in ("weight", "bias")}
    return out


REPLAY = Replay(
    "power2022", "openai_grok", original=("optim.warmup_start=0",), split=_openai_grok_split,
    weights=_openai_grok_weights, minibatches=True, answer_and_end=True,
)
