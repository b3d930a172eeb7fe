"""Replays of a paper's original code in groklab: its recorded split, initial weights and batch order.

A reference folder (tests/reference/<preset>/, written by scripts/reference/) holds what the original code drew
and computed: reference.npz (split, initial parameters under the original's names, the rows of each minibatch,
per-step losses) and meta.json (repository, commit, command). A `Replay` says how that recording maps onto
groklab: the config overrides that give the original's choices where the preset deliberately differs, how its
split becomes groklab's task data (built by groklab's own task code and checked against the recorded labels),
and how its parameters map onto groklab's. `replay_training` and `run_replay` then train groklab's own model,
optimizer and training step on exactly those inputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from groklab.config.overrides import apply_overrides
from groklab.config.schema import RunConfig
from groklab.datasets.mnist import load_mnist
from groklab.objective import Objective
from groklab.optim import build_optimizer
from groklab.presets import discover
from groklab.resolve import validate_run_config
from groklab.tasks import TaskData, build_task
from groklab.tasks.mnist import mnist_rows
from groklab.tasks.modular import equations, tokens
from groklab.tasks.pair_sum import pairs
from groklab.train.gradients import GradientPipeline
from groklab.train.trainer import BatchOrder, Training, build_model_for, measure, param_norm

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Reference:
    """One recording of an original code: its arrays and its meta.json."""

    arrays: Arrays
    meta: dict

    @property
    def init(self) -> Arrays:
        """The original's initial parameters, by its own names."""
        return {k.removeprefix("init/"): v for k, v in self.arrays.items() if k.startswith("init/")}


def load_reference(folder: Path) -> Reference:
    """Read folder/reference.npz and folder/meta.json."""
    with np.load(folder / "reference.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    return Reference(arrays, json.loads((folder / "meta.json").read_text()))


def split_rows(table: torch.Tensor, train_operands: np.ndarray, test_operands: np.ndarray,
               what: str, partition: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Row indices into `table` (all operand tuples of a task) of the recorded train and test operands, in
    their recorded order; they must be distinct rows of the table and, with `partition`, cover it exactly once
    (without it, e.g. for an original that uses only the pairs a <= b, they may leave rows out)."""
    row_of = {pair: i for i, pair in enumerate(map(tuple, table.tolist()))}

    def rows(pairs: np.ndarray) -> torch.Tensor:
        missing = [tuple(p) for p in pairs.tolist() if tuple(p) not in row_of]
        if missing:
            raise ValueError(f"{len(missing)} recorded pairs are not equations of {what}, e.g. {missing[0]}")
        return torch.tensor([row_of[tuple(p)] for p in pairs.tolist()])

    train, test = rows(train_operands), rows(test_operands)
    if len(set(train.tolist()) | set(test.tolist())) != len(train) + len(test):
        raise ValueError(f"the recorded train and test pairs of {what} repeat or overlap")
    if partition and len(train) + len(test) != len(table):
        raise ValueError(f"the recorded train and test pairs do not partition the table of {what}")
    return train, test


def modular_split(cfg: RunConfig, train_operands: np.ndarray, test_operands: np.ndarray,
                  train_labels: np.ndarray | None = None, partition: bool = True) -> TaskData:
    """groklab's modular task data holding exactly the given operand pairs, in the given order. The answers
    come from groklab's own table; `train_labels`, when recorded, must equal them."""
    task = cfg.task
    operands, answers = equations(task)
    train, test = split_rows(operands, train_operands, test_operands, task.describe(), partition)
    if train_labels is not None and not torch.equal(answers[train], torch.as_tensor(train_labels).long()):
        raise ValueError("groklab's answers differ from the original's labels on the recorded training pairs")
    inputs = tokens(task, operands)
    return TaskData(train_x=inputs[train], train_y=answers[train], test_x=inputs[test], test_y=answers[test],
                    vocab_size=task.vocab_size, seq_len=inputs.shape[1], n_classes=task.n_classes)


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


def _danielmamay_split(ref: Reference, cfg: RunConfig) -> TaskData:
    a = ref.arrays  # inputs [x*y, op, y, =] with label x: the equation (x*y) / y = x
    return modular_split(cfg, a["train_inputs"][:, [0, 2]], a["test_inputs"][:, [0, 2]], a["train_labels"])


def _op_eq_swapped(p: int) -> list[int]:
    """Row order that maps a vocabulary with = at p and op at p+1 (danielmamay, Grokfast) onto groklab's, which
    has op at p and = at p+1."""
    return [*range(p), p + 1, p]


def _multihead_attention(init: Arrays, theirs: str, ours: str, kinds: tuple[str, ...]) -> Arrays:
    """torch nn.MultiheadAttention's packed in_proj and out_proj under `theirs` -> groklab's q, k, v, out."""
    out = {}
    for kind in kinds:
        q, k, v = np.split(init[f"{theirs}in_proj_{kind}"], 3)
        out |= {f"{ours}q.{kind}": q, f"{ours}k.{kind}": k, f"{ours}v.{kind}": v,
                f"{ours}out.{kind}": init[f"{theirs}out_proj.{kind}"]}
    return out


def _danielmamay_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """danielmamay/grokking's Transformer (bias-free attention and MLP) -> groklab's."""
    swap, n_layers = _op_eq_swapped(cfg.task.p), cfg.model.n_layers
    out = {"embed.weight": init["token_embeddings.weight"][swap], "pos": init["position_embeddings.weight"],
           "unembed.weight": init[f"layers.{n_layers}.weight"][swap]}
    for i in range(n_layers):
        theirs, ours = f"layers.{i}.", f"blocks.{i}."
        out |= _multihead_attention(init, theirs + "self_attn.", ours + "attn.", ("weight",))
        out |= {f"{ours}mlp.{j}.weight": init[f"{theirs}ffn.{j}.weight"] for j in (0, 2)}
        for norm, ln in (("self_attn_norm", "ln1"), ("ffn_norm", "ln2")):
            out |= {f"{ours}{ln}.{kind}": init[f"{theirs}{norm}.{kind}"] for kind in ("weight", "bias")}
    return out


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


class AnswerAndEnd(torch.nn.Module):
    """Two scored positions, as openai/grok and GrokkedTransformer score them: the answer (read after the last
    input token) and the closing end token (read after the answer). groklab's transformer reads one position per
    sequence, the last before its pad tokens, so each sequence (ending in its answer) is given twice: with its
    answer replaced by the pad token (the causal mask hides that position from the one read) and whole. Returns
    [B, C, 2] logits for [B, 2] targets, as F.cross_entropy takes them."""

    def __init__(self, model: torch.nn.Module, pad_token: int) -> None:
        super().__init__()
        self.model, self.pad_token = model, pad_token

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        answer = (tokens != self.pad_token).sum(1) - 1
        answer_only = tokens.clone()
        answer_only[torch.arange(len(tokens), device=tokens.device), answer] = self.pad_token
        return torch.stack(self.model(torch.cat([answer_only, tokens])).chunk(2), dim=-1)


class AnswerAndEndObjective(Objective):
    """openai/grok's loss and accuracy over `AnswerAndEnd`'s two positions: the mean of their cross-entropies,
    and a sample is correct when both tokens are."""

    def per_sample(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return super().per_sample(outputs, targets).mean(-1)

    def correct(self, outputs: torch.Tensor, targets: torch.Tensor, losses: torch.Tensor) -> torch.Tensor:
        return (outputs.argmax(1) == targets).all(-1)


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


def _pairs_split(ref: Reference, cfg: RunConfig) -> TaskData:
    return modular_split(cfg, ref.arrays["train_pairs"], ref.arrays["test_pairs"])


def _grokfast_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """ironjr/grokfast main.py's Decoder -> groklab's. Its position table has 5 rows for 4 input tokens (the
    fifth is never used) and keeps the first 4."""
    swap = _op_eq_swapped(cfg.task.p)
    out = {"embed.weight": init["token_embeddings.weight"][swap], "pos": init["position_embeddings.weight"][:4],
           "unembed.weight": init["head.weight"][swap], "final_norm.weight": init["ln_f.weight"],
           "final_norm.bias": init["ln_f.bias"]}
    for i in range(cfg.model.n_layers):
        theirs, ours = f"layers.{i}.", f"blocks.{i}."
        out |= _multihead_attention(init, theirs + "attn.", ours + "attn.", ("weight", "bias"))
        for kind in ("weight", "bias"):
            out |= {f"{ours}mlp.{j}.{kind}": init[f"{theirs}mlp.{j}.{kind}"] for j in (0, 2)}
            out |= {f"{ours}ln{j}.{kind}": init[f"{theirs}ln_{j}.{kind}"] for j in (1, 2)}
    return out


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


def _doshi_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """d-doshi/Grokking's fcn (fc1 on the concatenated one-hots, x^2, fc2; no biases) -> groklab's MLP."""
    return {"net.0.weight": init["fc1.weight"], "net.2.weight": init["fc2.weight"]}


def _labelled_pairs_split(ref: Reference, cfg: RunConfig) -> TaskData:
    a = ref.arrays
    return modular_split(cfg, a["train_pairs"], a["test_pairs"], a["train_labels"])


def _unordered_pairs_split(ref: Reference, cfg: RunConfig) -> TaskData:
    """Grokking-Tickets trains and tests on the pairs a <= b only (is_symmetric_input)."""
    return modular_split(cfg, ref.arrays["train_pairs"], ref.arrays["test_pairs"], partition=False)


def _grokking_tickets_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """Grokking-Tickets' OnlyMLP (W_E and W_U stored [d_emb, vocab]; x @ W_U) -> groklab's TokenSumMLP."""
    return {"embed.weight": init["embed.W_E"].T, "inproj.weight": init["inproj.W"],
            "outproj.weight": init["outproj.W"], "unembed.weight": init["unembed.W_U"].T}


def _stablemax_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """grokking-at-the-edge's MLP (layers.i, ReLU between, no biases) -> groklab's MLP (net.0, net.2, ...)."""
    return {f"net.{2 * i}.weight": init[f"layers.{i}.weight"] for i in range(cfg.model.depth)}


def _own_task(ref: Reference, cfg: RunConfig) -> TaskData:
    """The preset's own task data, for originals that take a fixed subset (Omnigrok: the first 1000 MNIST
    training images, the whole test set); the recorded batches index its training rows."""
    return build_task(cfg.task, cfg.seed)


def _mnist_rows_split(ref: Reference, cfg: RunConfig) -> TaskData:
    """The preset's MNIST task on the recorded training rows (grok-adversarial draws them with torch.randint,
    repeats included), with the preset's test images."""
    return mnist_rows(load_mnist(cfg.task.path), ref.arrays["train_rows"].astype(np.int64), cfg.task.n_test)


def _omnigrok_weights(init: Arrays, cfg: RunConfig) -> Arrays:
    """An nn.Sequential(Flatten, Linear, activation, ...) (the Omnigrok notebook; grok-adversarial, which grew
    from it) -> groklab's MLP (net.0, net.2, ...)."""
    return {f"net.{2 * i}.{kind}": init[f"{2 * i + 1}.{kind}"] for i in range(cfg.model.depth)
            for kind in ("weight", "bias")}


@dataclass(frozen=True)
class Replay:
    """How one original code's recording maps onto a groklab preset."""

    preset: str
    scale: str
    original: tuple[str, ...]  # overrides giving the original's choices where the preset deliberately differs
    split: Callable[[Reference, RunConfig], TaskData]
    weights: Callable[[Arrays, RunConfig], Arrays]
    minibatches: bool = False  # the recording holds each step's rows (batch_rows, batch_sizes); else full batch
    answer_and_end: bool = False  # scored on the answer and the closing end token (openai/grok, GrokkedTransformer)
    tied_unembedding: bool = False  # the output layer is the token embedding (GPT-2)


REPLAYS = {
    "power2022/danielmamay": Replay(
        "power2022", "canonical", original=(), split=_danielmamay_split, weights=_danielmamay_weights,
        minibatches=True,
    ),
    "power2022/openai-grok": Replay(
        "power2022", "openai_grok", original=("optim.warmup_start=0",), split=_openai_grok_split,
        weights=_openai_grok_weights, minibatches=True, answer_and_end=True,
    ),
    "nanda2023/progress-measures-paper": Replay(
        "nanda2023", "canonical",
        original=("task.outputs=vocabulary", "optim.warmup_start=0", "train.loss_dtype=float32"),
        split=_pairs_split, weights=_progress_measures_weights,
    ),
    "liu2022_effective/grokking-squared": Replay(
        "liu2022_effective", "canonical", original=(), split=_pair_sum_split, weights=_grokking_squared_weights,
        minibatches=True,
    ),
    "lee2024_grokfast/grokfast": Replay(
        "lee2024_grokfast", "canonical", original=(), split=_pairs_split, weights=_grokfast_weights,
        minibatches=True,
    ),
    "minegishi2023_tickets/grokking-tickets": Replay(
        "minegishi2023_tickets", "canonical", original=("train.loss_dtype=float64",), split=_unordered_pairs_split,
        weights=_grokking_tickets_weights,
    ),
    "humayun2024/grok-adversarial": Replay(
        "humayun2024", "canonical", original=(), split=_mnist_rows_split, weights=_omnigrok_weights,
        minibatches=True,
    ),
    "liu2022_omnigrok/omnigrok": Replay(
        "liu2022_omnigrok", "canonical", original=(), split=_own_task, weights=_omnigrok_weights, minibatches=True,
    ),
    "prieto2025_stablemax/grokking-at-the-edge": Replay(
        "prieto2025_stablemax", "canonical", original=(), split=_pairs_split, weights=_stablemax_weights,
    ),
    "wang2024_grokked_kg/grokked-transformer": Replay(
        "wang2024_grokked_kg", "quick", original=(), split=_grokked_transformer_split, weights=_gpt2_weights,
        minibatches=True, answer_and_end=True, tied_unembedding=True,
    ),
    "doshi2024_polynomials/d-doshi-grokking": Replay(
        "doshi2024_polynomials", "canonical", original=(), split=_labelled_pairs_split, weights=_doshi_weights,
    ),
}


class RecordedOrder:
    """The original's minibatches: the recorded training rows of each step (steps past the recording fall back
    to groklab's own seeded order)."""

    def __init__(self, data: TaskData, rows: np.ndarray, sizes: np.ndarray, fallback: BatchOrder) -> None:
        self.x, self.y, self.fallback = data.train_x, data.train_y, fallback
        self.batches = np.split(rows.astype(np.int64), np.cumsum(sizes)[:-1])

    def epoch_of(self, step: int) -> float:
        return self.fallback.epoch_of(step)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        if step >= len(self.batches):
            return self.fallback.batch(step)
        rows = torch.from_numpy(self.batches[step])
        return self.x[rows], self.y[rows]


def replay_config(replay: Replay, extra: list[str] | None = None, original: bool = True) -> RunConfig:
    """The preset's scale with the original's choices (`original`) and any `extra` overrides."""
    base = discover().get(replay.preset).config_dict(replay.scale)
    overrides = [*(replay.original if original else ()), "device=cpu", *(extra or [])]
    return validate_run_config(apply_overrides(base, overrides))


def replay_training(replay: Replay, ref: Reference, cfg: RunConfig,
                    own_order: bool = False) -> tuple[TaskData, Training]:
    """groklab's Training for `cfg` on the recorded split, from the recorded initial weights, stepping through the
    recorded minibatches (or groklab's own seeded order with `own_order`)."""
    data = replay.split(ref, cfg)
    objective = AnswerAndEndObjective(cfg) if replay.answer_and_end else Objective(cfg)
    model = build_model_for(cfg, data, objective)
    weights = replay.weights(ref.init, cfg)
    model.load_state_dict({k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in weights.items()}, strict=True)
    if replay.tied_unembedding:
        model.unembed.weight = model.embed.weight
    order = BatchOrder(data, cfg.train.batch_size, cfg.seed, cfg.train.drop_last)
    if replay.minibatches and not own_order:
        order = RecordedOrder(data, ref.arrays["batch_rows"], ref.arrays["batch_sizes"], order)
    optimizer = build_optimizer(model, cfg.optim)
    if replay.answer_and_end:
        model = AnswerAndEnd(model, data.pad_token)
    return data, Training(cfg, model, optimizer, objective, order, None, param_norm(model),
                          GradientPipeline(cfg.optim))


@dataclass
class Trajectory:
    """What a replay computed: the minibatch loss of every step, and (updates done, train acc, test acc, test
    loss) at each evaluation."""

    step_loss: list[float] = field(default_factory=list)
    evals: list[tuple[int, float, float, float]] = field(default_factory=list)

    def first_step(self, test_acc: float) -> int | None:
        """The first evaluation (in updates done) at which test accuracy reached `test_acc`."""
        return next((s for s, _, acc, _ in self.evals if acc >= test_acc), None)


def run_replay(data: TaskData, training: Training, steps: int, eval_at: Iterable[int] = ()) -> Trajectory:
    """Train `steps` steps, evaluating both splits after each number of updates in `eval_at`."""
    out, eval_at = Trajectory(), set(eval_at)
    for step in range(steps + 1):
        if step in eval_at:
            training.model.eval()
            train_loss, train_acc = measure(training.model, data.train_x, data.train_y, training.objective)
            test_loss, test_acc = measure(training.model, data.test_x, data.test_y, training.objective)
            training.model.train()
            out.evals.append((step, train_acc, test_acc, test_loss))
        if step < steps:
            out.step_loss.append(float(training.step(step)))
    return out


def fidelity_line(preset: str) -> str:
    """One sentence for the report: which original code the preset was replayed against, and where to read
    the numbers."""
    originals = [key.split("/", 1)[1] for key, replay in REPLAYS.items() if replay.preset == preset]
    if not originals:
        return f"not yet replayed against its paper's code (docs/fidelity.md, row {preset})"
    return (f"replayed step by step against the recorded split, weights and losses of {' and '.join(originals)} "
            f"(docs/fidelity.md, row {preset})")


def relative_difference(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """|ours - theirs| / |theirs|, elementwise."""
    return np.abs(np.asarray(ours, np.float64) - theirs) / np.abs(np.asarray(theirs, np.float64))
