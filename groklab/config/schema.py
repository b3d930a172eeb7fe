"""Typed, validated run configuration.

Every model forbids unknown keys, every field documents itself, and cross-field rules
(division needs a prime modulus, a batch no larger than the training set) are checked
before a single tensor exists.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    """Base for all config groups: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, math.isqrt(n) + 1))


# --------------------------------------------------------------------------- task

Operation = Literal[
    "x+y", "x-y", "x*y", "x/y",
    "x^2+y", "x^3+y",
    "x^2+y^2", "x^2+xy+y^2", "x^2+xy+y^2+x", "x^3+xy", "x^3+xy^2+y",
    "mix_div_sub", "mix_add_mul", "mix_add_sub",
]
DIVIDING_OPERATIONS = ("x/y", "mix_div_sub")


class ModularTaskCfg(Strict):
    """Binary operation tables `x op y = c (mod p)` (Power et al. 2022, Nanda et al. 2023)."""

    name: Literal["modular"] = "modular"
    operation: Operation = Field(
        "x+y",
        description="The binary operation. mix_div_sub: x/y if y is odd else x-y; "
        "mix_add_mul: x+y if x is even else x*y; mix_add_sub: x+y if x is even else x-y "
        "(Power et al.'s list). x/y uses y in 1..p-1.",
    )
    p: int = Field(97, ge=2, le=2000, description="The modulus.")
    train_frac: float = Field(0.5, gt=0, lt=1, description="Fraction of all equations used for training.")
    format: Literal["x_op_y_eq", "x_y_eq"] = Field(
        "x_op_y_eq",
        description="Token format: [x, op, y, =] with vocab p+2 (Power, danielmamay) or [x, y, =] "
        "with vocab p+1 (Nanda). The answer is predicted at the last position.",
    )

    @model_validator(mode="after")
    def _check(self) -> ModularTaskCfg:
        if self.operation in DIVIDING_OPERATIONS and not is_prime(self.p):
            raise ValueError(
                f"operation {self.operation!r} divides, which needs a prime modulus; p={self.p} is not prime "
                "(use e.g. p=97 or p=113)"
            )
        if self.n_train < 1 or self.n_train >= self.n_examples:
            raise ValueError(
                f"train_frac={self.train_frac} leaves {self.n_train} of {self.n_examples} equations for training; "
                "both the train and the test set need at least one"
            )
        return self

    @property
    def n_examples(self) -> int:
        return self.p * (self.p - 1) if self.operation == "x/y" else self.p * self.p

    @property
    def n_train(self) -> int:
        return int(self.train_frac * self.n_examples)

    @property
    def n_classes(self) -> int:
        return self.p


# A discriminated union on `name` once a second task exists.
TaskCfg = ModularTaskCfg

# -------------------------------------------------------------------------- model

Activation = Literal["relu", "gelu", "tanh", "quadratic"]


class TransformerCfg(Strict):
    """Decoder-only transformer predicting the answer at the last position."""

    name: Literal["transformer"] = "transformer"
    n_layers: int = Field(2, ge=1, le=48, description="Number of transformer blocks.")
    d_model: int = Field(128, ge=1, description="Residual stream width.")
    n_heads: int = Field(4, ge=1, description="Attention heads; must divide d_model.")
    d_mlp: int = Field(512, ge=1, description="Hidden width of each block's MLP.")
    activation: Literal["relu", "gelu"] = Field("relu", description="MLP activation.")
    norm: Literal["pre", "post", "none"] = Field(
        "post", description="LayerNorm placement in each block: post (Power), pre (Grokfast), none (Nanda)."
    )
    final_norm: bool = Field(False, description="LayerNorm before the unembedding (pre-LN models, danielmamay).")
    positions: Literal["learned", "sinusoidal"] = Field("learned", description="Positional encoding.")
    attn_bias: bool = Field(False, description="Biases in the attention projections.")
    mlp_bias: bool = Field(False, description="Biases in the MLP layers.")
    init: Literal["pytorch", "nanda"] = Field(
        "pytorch",
        description="pytorch: library defaults; nanda: N(0, 1/d_model) weights, N(0, 1/d_vocab) unembedding, "
        "zero biases (progress-measures-paper/transformers.py).",
    )

    @model_validator(mode="after")
    def _check(self) -> TransformerCfg:
        if self.d_model % self.n_heads:
            raise ValueError(f"n_heads={self.n_heads} must divide d_model={self.d_model}")
        if self.final_norm and self.norm == "none":
            raise ValueError("final_norm=true needs norm=pre or norm=post (norm=none means no LayerNorm anywhere)")
        return self


class MLPCfg(Strict):
    """Fully connected network; token inputs are one-hot encoded and concatenated (Gromov 2023)."""

    name: Literal["mlp"] = "mlp"
    width: int = Field(256, ge=1, description="Width of every hidden layer.")
    depth: int = Field(2, ge=1, le=64, description="Number of Linear layers (2 = one hidden layer).")
    activation: Activation = Field("relu", description="Hidden activation; quadratic is z**2.")
    bias: bool = Field(True, description="Biases in the Linear layers.")
    init_scale: float = Field(1.0, gt=0, description="Multiplier on every initial parameter (Omnigrok's alpha).")


ModelCfg = Annotated[TransformerCfg | MLPCfg, Field(discriminator="name")]

# ---------------------------------------------------------------------- optimizer


Beta = Annotated[float, Field(ge=0, lt=1)]


class OptimCfg(Strict):
    """Optimizer and learning-rate schedule."""

    name: Literal["adamw", "adam", "sgd"] = Field(
        "adamw", description="adamw: decoupled weight decay; adam: weight decay as coupled L2; sgd: with momentum."
    )
    lr: float = Field(1e-3, gt=0, description="Peak learning rate.")
    betas: tuple[Beta, Beta] = Field((0.9, 0.98), description="Adam betas, each in [0, 1).")
    eps: float = Field(1e-8, gt=0, description="Adam epsilon.")
    weight_decay: float = Field(1.0, ge=0, description="Weight decay coefficient, applied to all parameters.")
    momentum: float = Field(0.0, ge=0, lt=1, description="SGD momentum.")
    warmup_steps: int = Field(10, ge=0, description="Linear warmup: lr * min(1, (step+1)/warmup_steps).")
    schedule: Literal["constant", "cosine"] = Field("constant", description="Schedule after warmup.")
    min_lr_ratio: float = Field(0.1, ge=0, le=1, description="Final lr / peak lr for the cosine schedule.")


# ------------------------------------------------------------------ training/eval


class TrainCfg(Strict):
    """The training loop."""

    steps: int = Field(10_000, ge=1, description="Number of optimizer updates.")
    batch_size: int | None = Field(
        None, ge=1, description="Minibatch size; null means full batch. Batches are reshuffled every epoch."
    )
    loss: Literal["cross_entropy", "mse"] = Field("cross_entropy", description="mse regresses one-hot targets.")
    loss_dtype: Literal["float32", "float64"] = Field(
        "float32", description="Precision of the loss computation (float64 avoids late float32 loss spikes)."
    )
    checkpoint_every: int = Field(1000, ge=1, description="Steps between checkpoints (also taken at the end).")
    stop_at_test_acc: float | None = Field(
        None, gt=0, le=1, description="Stop at the first evaluation with test accuracy at or above this "
        "(time-to-grok measurements); null trains all steps."
    )


class EvalCfg(Strict):
    """When to evaluate. Steps 0 and the last step are always evaluated."""

    every: int = Field(100, ge=1, description="Evaluate every N steps.")
    log_points: int = Field(
        60, ge=0, le=10_000, description="Extra log-spaced evaluation steps between 1 and train.steps (dense early)."
    )
    accuracy: Literal["argmax", "loss_below"] = Field(
        "argmax", description="argmax: the top output is the target class; loss_below: a sample counts as correct "
        "when its own loss is below eval.loss_threshold (regression tasks, Levi et al. 2024)."
    )
    loss_threshold: float | None = Field(None, gt=0, description="Per-sample loss threshold for accuracy=loss_below.")

    @model_validator(mode="after")
    def _check(self) -> EvalCfg:
        if self.accuracy == "loss_below" and self.loss_threshold is None:
            raise ValueError("eval.accuracy=loss_below needs eval.loss_threshold (e.g. eval.loss_threshold=1e-3)")
        return self


class AnalysisCfg(Strict):
    """Thresholds that turn curves into events and an outcome class (see docs/analysis.md)."""

    memorization_threshold: float = Field(0.99, gt=0, le=1, description="Train accuracy that counts as memorized.")
    generalization_threshold: float = Field(0.95, gt=0, le=1, description="Test accuracy that counts as generalized.")
    min_delay_ratio: float = Field(
        2.0, gt=1, description="generalization_step / memorization_step at or above which a run counts as grokked."
    )


class RunConfig(Strict):
    """Everything one training run needs. Written to config.yaml exactly as it ran."""

    preset: str | None = Field(None, description="Preset this config came from.")
    scale: str | None = Field(None, description="Preset scale (quick, canonical).")
    seed: int = Field(0, ge=0, description="One seed for the data split, the initialization and the batch order.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto picks CUDA when available.")
    task: TaskCfg = Field(default_factory=ModularTaskCfg)
    model: ModelCfg = Field(default_factory=TransformerCfg)
    optim: OptimCfg = Field(default_factory=OptimCfg)
    train: TrainCfg = Field(default_factory=TrainCfg)
    eval: EvalCfg = Field(default_factory=EvalCfg)
    analysis: AnalysisCfg = Field(default_factory=AnalysisCfg)

    @model_validator(mode="after")
    def _check(self) -> RunConfig:
        bs, n_train = self.train.batch_size, self.task.n_train
        if bs is not None and bs > n_train:
            raise ValueError(
                f"train.batch_size={bs} is larger than the training set ({n_train} examples); "
                f"use train.batch_size<={n_train} or train.batch_size=null for full batch"
            )
        return self
