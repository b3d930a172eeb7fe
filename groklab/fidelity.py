"""Replays of a paper's original code in groklab: its recorded split, initial weights and batch order.

A reference folder (tests/reference/<preset>/, written by scripts/reference/) holds what the original code drew and
computed: reference.npz (split, initial parameters under the original's names, the rows of each minibatch, per-step
losses) and meta.json (repository, commit, command). A `Replay` (one module of groklab.replays per original) says
how that recording maps onto groklab: the config overrides that give the original's choices where the preset
deliberately differs, how its split becomes groklab's task data (built by groklab's own task code and checked
against the recorded labels), and how its parameters map onto groklab's. `replay_training` and `run_replay` then
train groklab's own model, optimizer and training step on exactly those inputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from groklab.config.overrides import apply_overrides
from groklab.config.schema import RunConfig
from groklab.objective import Objective
from groklab.optim import build_optimizer
from groklab.presets import discover
from groklab.resolve import validate_run_config
from groklab.tasks import TaskData
from groklab.tasks.modular import equations, tokens
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


def op_eq_swapped(p: int) -> list[int]:
    """Row order that maps a vocabulary with = at p and op at p+1 (danielmamay, Grokfast) onto groklab's, which
    has op at p and = at p+1."""
    return [*range(p), p + 1, p]


def multihead_attention(init: Arrays, theirs: str, ours: str, kinds: tuple[str, ...]) -> Arrays:
    """torch nn.MultiheadAttention's packed in_proj and out_proj under `theirs` -> groklab's q, k, v, out."""
    out = {}
    for kind in kinds:
        q, k, v = np.split(init[f"{theirs}in_proj_{kind}"], 3)
        out |= {f"{ours}q.{kind}": q, f"{ours}k.{kind}": k, f"{ours}v.{kind}": v,
                f"{ours}out.{kind}": init[f"{theirs}out_proj.{kind}"]}
    return out


class AnswerAndEnd(torch.nn.Module):
    """Two scored positions, as openai/grok and GrokkedTransformer score them: the answer (read after the last
    input token) and the closing end token (read after the answer), both from one pass over the sequence, which
    ends in its answer. Returns [B, C, 2] logits for [B, 2] targets, as F.cross_entropy takes them."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model.logits_before_pad(tokens, 2)


class AnswerAndEndObjective(Objective):
    """openai/grok's loss and accuracy over `AnswerAndEnd`'s two positions: the mean of their cross-entropies,
    and a sample is correct when both tokens are."""

    def per_sample(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return super().per_sample(outputs, targets).mean(-1)

    def correct(self, outputs: torch.Tensor, targets: torch.Tensor, losses: torch.Tensor) -> torch.Tensor:
        return (outputs.argmax(1) == targets).all(-1)


def pairs_split(ref: Reference, cfg: RunConfig) -> TaskData:
    """The recorded train and test pairs, in their order (originals that record no labels)."""
    return modular_split(cfg, ref.arrays["train_pairs"], ref.arrays["test_pairs"])


def sequential_mlp_weights(init: Arrays, cfg: RunConfig) -> Arrays:
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
    # settings of the original (its recording's meta.json original_config) the preset's scale keeps differently
    # and the replay takes from the recording instead (its split, its weights): key -> why
    deviations: Mapping[str, str] = field(default_factory=dict)


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
        model = AnswerAndEnd(model)
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


def relative_difference(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """|ours - theirs| / |theirs|, elementwise."""
    return np.abs(np.asarray(ours, np.float64) - theirs) / np.abs(np.asarray(theirs, np.float64))
