"""Typed, validated run configuration.

Every model forbids unknown keys, every field documents itself, and cross-field rules
(division needs a prime modulus, a batch no larger than the training set) are checked
before a single tensor exists.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator


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
    format: Literal["x_op_y_eq", "x_y_eq", "x_y"] = Field(
        "x_op_y_eq",
        description="Token format: [x, op, y, =] with vocab p+2 (Power, danielmamay), [x, y, =] "
        "with vocab p+1 (Nanda), or the operands alone [x, y] with vocab p (one-hot MLPs, Gromov). "
        "The answer is predicted at the last position.",
    )
    n_terms: int = Field(
        2, ge=2, le=6, description="Number of operands: x1+x2+...+xn mod p (Doshi et al. 2024's multi-term "
        "addition); only operation x+y supports more than 2."
    )
    nonzero_y: bool = Field(
        False, description="Operands y in 1..p-1 only, for every operation (Grokfast's main.py draws x*y so); "
        "x/y always leaves y = 0 out."
    )
    outputs: Literal["answers", "vocabulary"] = Field(
        "answers", description="The model's output classes: answers, the p residues; vocabulary, one per input "
        "token (p plus the op and = tokens), so the softmax also spans tokens that are never an answer "
        "(danielmamay/grokking's and Nanda et al.'s code)."
    )

    @model_validator(mode="after")
    def _check(self) -> ModularTaskCfg:
        if self.n_terms > 2 and self.operation != "x+y":
            raise ValueError(f"n_terms={self.n_terms} is only defined for operation x+y (multi-term addition)")
        if self.n_examples > 5_000_000:
            raise ValueError(f"p={self.p} with n_terms={self.n_terms} makes {self.n_examples} equations; "
                             "use a smaller p or fewer terms (at most 5,000,000)")
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
    def first_y(self) -> int:
        """The smallest operand after the first: 1 where y = 0 is left out."""
        return 1 if self.nonzero_y or self.operation == "x/y" else 0

    @property
    def n_examples(self) -> int:
        return self.p * (self.p - self.first_y) ** (self.n_terms - 1)

    @property
    def n_train(self) -> int:
        return int(self.train_frac * self.n_examples)

    @property
    def vocab_size(self) -> int:
        return self.p + {"x_op_y_eq": 2, "x_y_eq": 1, "x_y": 0}[self.format]

    @property
    def n_classes(self) -> int:
        return self.vocab_size if self.outputs == "vocabulary" else self.p

    @property
    def chance_accuracy(self) -> float:
        return 1 / self.p

    def describe(self) -> str:
        terms = f", {self.n_terms} terms" if self.n_terms > 2 else ""
        return f"{self.operation} mod {self.p}{terms}, train fraction {self.train_frac}"


class PairSumTaskCfg(Strict):
    """Sums a+b of unordered pairs 0 <= a <= b < p, one class per sum (Liu et al. 2022's toy model)."""

    name: Literal["pair_sum"] = "pair_sum"
    p: int = Field(10, ge=2, le=1000, description="Numbers 0..p-1; there are p(p+1)/2 pairs and 2p-1 sums.")
    n_train: int = Field(45, ge=1, description="Number of training pairs (Liu's train_num); the rest are test.")

    @model_validator(mode="after")
    def _check(self) -> PairSumTaskCfg:
        if self.n_train >= self.n_examples:
            raise ValueError(f"n_train={self.n_train} leaves no test pairs: p={self.p} has only {self.n_examples} "
                             f"pairs; use n_train<={self.n_examples - 1}")
        return self

    @property
    def n_examples(self) -> int:
        return self.p * (self.p + 1) // 2

    @property
    def n_classes(self) -> int:
        return 2 * self.p - 1

    @property
    def chance_accuracy(self) -> float:
        return 1 / self.n_classes

    def describe(self) -> str:
        return f"a+b for pairs of 0..{self.p - 1}, {self.n_train} of {self.n_examples} pairs for training"


class LinearTeacherTaskCfg(Strict):
    """Regression on y = T x with Gaussian inputs x ~ N(0, I) and a Gaussian teacher (Levi et al. 2024)."""

    name: Literal["linear_teacher"] = "linear_teacher"
    d_in: int = Field(100, ge=1, le=100_000, description="Input dimension.")
    d_out: int = Field(10, ge=1, le=10_000, description="Output dimension.")
    n_train: int = Field(200, ge=1, description="Training samples; lambda = d_in / n_train.")
    n_test: int = Field(2000, ge=1, description="Test samples.")

    @property
    def n_classes(self) -> int:  # the number of outputs; accuracy is defined through a loss threshold
        return self.d_out

    @property
    def chance_accuracy(self) -> float:
        return 0.0

    @property
    def ratio(self) -> float:
        """lambda = d_in / n_train, the paper's control parameter."""
        return self.d_in / self.n_train

    def describe(self) -> str:
        return f"linear teacher d_in {self.d_in}, d_out {self.d_out}, {self.n_train} train samples " \
               f"(lambda {self.ratio:.3g})"


def _named(default: str):
    """Union discriminator reading `name`, with a default variant when a group leaves it out."""

    def kind(value: Any) -> str:
        return value.get("name", default) if isinstance(value, dict) else getattr(value, "name", default)

    return Discriminator(kind)


class MnistTaskCfg(Strict):
    """Real MNIST digits (28x28 grey images, 10 classes), pixels scaled to [0, 1] (torchvision's ToTensor)."""

    name: Literal["mnist"] = "mnist"
    n_train: int = Field(1000, ge=1, le=60_000, description="Training images drawn from the 60k training set.")
    n_test: int = Field(10_000, ge=1, le=10_000, description="Test images (the first n_test of the 10k test set).")
    subset: Literal["first", "random"] = Field(
        "first", description="first: images 0..n_train-1 (Omnigrok); random: a seeded draw without replacement."
    )
    path: str | None = Field(
        None, description="Your own MNIST: an npz with x_train, y_train, x_test, y_test, or a folder with the "
        "four idx files. null uses groklab's verified cache (built on first use, see docs/datasets.md)."
    )

    @property
    def n_classes(self) -> int:
        return 10

    @property
    def chance_accuracy(self) -> float:
        return 0.1

    def describe(self) -> str:
        return f"MNIST, {self.n_train} training images ({self.subset}), {self.n_test} test images"


KG_DEFAULTS = {  # Wang et al. 2024's construction (composition.ipynb, comparison.ipynb)
    "composition": {"n_entities": 2000, "ood_frac": 0.05, "test_frac": 0.005, "phi": 18.0},
    "comparison": {"n_entities": 1000, "ood_frac": 0.1, "test_frac": 0.1, "phi": 12.6},
}


class KnowledgeGraphTaskCfg(Strict):
    """Synthetic knowledge bases of Wang et al. 2024 (grokked transformers as implicit reasoners).

    composition: every entity has `out_degree` distinct relations, each to a random tail; a two-hop query
    (h, r1, r2) asks for r2(r1(h)). comparison: every entity has a value per attribute; a query asks whether
    entity 1's value is below, equal to or above entity 2's. The training set is every atomic fact plus
    round(phi x |ID atomic facts|) inferred facts; OOD facts/entities never appear in a training query.
    """

    name: Literal["knowledge_graph"] = "knowledge_graph"
    kind: Literal["composition", "comparison"] = Field("composition", description="Which reasoning task.")
    n_entities: int = Field(2000, ge=4, le=100_000, description="Entities (composition 2000, comparison 1000).")
    n_relations: int = Field(200, ge=2, le=10_000, description="composition: relations.")
    out_degree: int = Field(20, ge=1, description="composition: relations per entity (distinct, random tails).")
    n_attributes: int = Field(20, ge=1, le=1000, description="comparison: attributes per entity.")
    n_values: int = Field(20, ge=2, le=1000, description="comparison: attribute values 0..n_values-1.")
    phi: float = Field(18.0, gt=0, description="Inferred facts per ID atomic fact in training (the paper's phi).")
    ood_frac: float = Field(0.05, ge=0, lt=1, description="composition: share of atomic facts that are OOD "
                            "(0.05); comparison: share of entities per attribute that are OOD (0.1).")
    test_frac: float = Field(0.005, gt=0, lt=1, description="Share of ID inferred facts held out as the "
                             "test_inferred_id split (composition 0.005, comparison 0.1).")
    probe_size: int = Field(3000, ge=1, description="Largest evaluation split (examples drawn per split).")

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: Any) -> Any:
        """Fields left out take the paper's value for the chosen kind."""
        kind = data.get("kind", "composition") if isinstance(data, dict) else None
        return {**KG_DEFAULTS[kind], **data} if kind in KG_DEFAULTS else data

    @model_validator(mode="after")
    def _check(self) -> KnowledgeGraphTaskCfg:
        id_share, keep = 1 - self.ood_frac, 1 - self.test_frac
        if self.kind == "composition":
            if self.out_degree > self.n_relations:
                raise ValueError(f"out_degree={self.out_degree} exceeds n_relations={self.n_relations}: each "
                                 "entity's relations are distinct")
            available = self.out_degree * id_share * keep  # inferred candidates per ID atomic fact
            needed = "out_degree"
        else:
            available = (round(self.n_entities * id_share) - 1) * keep
            needed = "n_entities"
        if self.phi > 0.98 * available:
            raise ValueError(f"phi={self.phi} asks for more inferred facts than the knowledge base has (about "
                             f"{available:.1f} per ID atomic fact): lower phi or raise {needed}")
        return self

    @property
    def n_atomic(self) -> tuple[int, int]:
        """(all atomic facts, ID atomic facts)."""
        if self.kind == "composition":
            total = self.n_entities * self.out_degree
            return total, total - round(self.ood_frac * total)
        return self.n_entities * self.n_attributes, (self.n_entities - round(self.ood_frac * self.n_entities)) \
            * self.n_attributes

    @property
    def n_train(self) -> int:
        """Training examples: every atomic fact plus round(phi x ID atomic facts) inferred ones."""
        total, in_distribution = self.n_atomic
        return total + round(self.phi * in_distribution)

    @property
    def vocab_size(self) -> int:
        if self.kind == "composition":
            return self.n_entities + self.n_relations + 1  # entities, relations, pad
        return self.n_entities + self.n_attributes + self.n_values + 2 + 3 + 1  # ..., <q>, <mask>, 3 labels, pad

    @property
    def n_classes(self) -> int:
        return self.vocab_size  # the answer is a token, as in the paper's language model

    @property
    def chance_accuracy(self) -> float:
        if self.kind == "composition":
            return 1 / self.n_entities
        return (1 - 1 / self.n_values) / 2  # comparison: always answering "below" (ties are 1 in n_values)

    def describe(self) -> str:
        if self.kind == "composition":
            return (f"two-hop composition, {self.n_entities} entities, {self.n_relations} relations, out-degree "
                    f"{self.out_degree}, phi {self.phi:g}")
        return (f"comparison, {self.n_entities} entities, {self.n_attributes} attributes, {self.n_values} values, "
                f"phi {self.phi:g}")


TaskCfg = Annotated[
    Annotated[ModularTaskCfg, Tag("modular")] | Annotated[PairSumTaskCfg, Tag("pair_sum")]
    | Annotated[LinearTeacherTaskCfg, Tag("linear_teacher")] | Annotated[MnistTaskCfg, Tag("mnist")]
    | Annotated[KnowledgeGraphTaskCfg, Tag("knowledge_graph")],
    _named("modular"),
]

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
    norm: Literal["pre", "post", "none", "pre_normalized_residual"] = Field(
        "post", description="LayerNorm placement in each block: post (Power), pre, none (Nanda), "
        "pre_normalized_residual (Grokfast's main.py: the normalized input is also the residual, "
        "x <- ln1(x) + attn(ln1(x)), then x + mlp(ln2(x)))."
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
    dropout: float = Field(
        0.0, ge=0, lt=1, description="Dropout while training, placed as GPT-2 places it (embd/attn/resid_pdrop): "
        "on the embeddings, the attention probabilities and each block's attention and MLP outputs.")

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
    init_std: float | None = Field(
        None, gt=0, description="Draw every weight from N(0, init_std^2) and start biases at 0 (d-doshi/Grokking: "
        "sqrt(0.25) / (2 width)^(1/3)); null keeps PyTorch's default uniform init.")
    init_scale: float = Field(1.0, gt=0, description="Multiplier on every initial parameter (Omnigrok's alpha).")


class ReprMLPCfg(Strict):
    """Learnable representations r_a, r_b decoded from r_a + r_b by an MLP (Liu et al. 2022's toy model).

    The representation parameters are named `embed*`, so optim.embedding_lr/embedding_weight_decay set
    their own optimizer group."""

    name: Literal["repr_mlp"] = "repr_mlp"
    repr_dim: int = Field(1, ge=1, description="Dimension of each learned representation.")
    repr_init_scale: float = Field(1.0, gt=0, description="Representations start as U(-1/2, 1/2) times this.")
    width: int = Field(200, ge=1, description="Decoder hidden width.")
    depth: int = Field(3, ge=1, le=64, description="Decoder Linear layers.")
    activation: Activation = Field("tanh", description="Decoder activation.")


class TokenSumMLPCfg(Strict):
    """Embed each token, project, sum over positions, ReLU, project back, unembed; no biases, weights
    N(0, 1/fan_in) (Minegishi et al. 2023's modular-addition MLP, model.py::OnlyMLP)."""

    name: Literal["token_sum_mlp"] = "token_sum_mlp"
    d_embed: int = Field(500, ge=1, description="Embedding (and unembedding) width.")
    width: int = Field(48, ge=1, description="Hidden width after the in-projection.")


class LinearCfg(Strict):
    """A linear student y = S x on real-valued inputs (Levi et al. 2024), no bias."""

    name: Literal["linear"] = "linear"
    init_scale: float = Field(
        0.0, ge=0, description="Initial weights are N(0, init_scale^2 / d_in); 0 starts from S = 0."
    )


ModelCfg = Annotated[
    Annotated[TransformerCfg, Tag("transformer")] | Annotated[MLPCfg, Tag("mlp")]
    | Annotated[ReprMLPCfg, Tag("repr_mlp")] | Annotated[LinearCfg, Tag("linear")]
    | Annotated[TokenSumMLPCfg, Tag("token_sum_mlp")],
    _named("transformer"),
]

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
    warmup_steps: int = Field(10, ge=0, description="Linear warmup over this many steps (see warmup_start).")
    warmup_start: float | None = Field(
        None, ge=0, lt=1, description="null: lr * (step+1)/warmup_steps during warmup (the first step already "
        "moves); a number s: lr * (s + (1-s) * step/warmup_steps) as torch's LinearLR(start_factor=s) steps it "
        "(danielmamay/grokking: 0.1; Nanda et al.'s LambdaLR min(step/10, 1): 0, a first step at lr 0)."
    )
    schedule: Literal["constant", "cosine"] = Field("constant", description="Schedule after warmup.")
    min_lr_ratio: float = Field(0.1, ge=0, le=1, description="Final lr / peak lr for the cosine schedule.")
    grad_clip: float | None = Field(
        None, gt=0, description="Clip the global gradient norm to this value before each step; null: no clipping."
    )
    embedding_lr: float | None = Field(
        None, gt=0, description="Own lr for the embedding/representation parameters (names starting with "
        "'embed'); null uses lr. Liu et al. 2022 train representation and decoder at different rates."
    )
    embedding_weight_decay: float | None = Field(
        None, ge=0, description="Own weight decay for the embedding parameters; null uses weight_decay."
    )
    grad_filter: Literal["none", "ema", "ma"] = Field(
        "none", description="Grokfast (Lee et al. 2024): add lambda x a low-pass filtered gradient to each "
        "gradient before the step. ema: exponential average with grad_filter_alpha; ma: mean of the last "
        "grad_filter_window gradients (applied once the window is full; memory = window x parameters)."
    )
    grad_filter_alpha: float = Field(0.98, gt=0, lt=1, description="Grokfast-EMA momentum alpha.")
    grad_filter_lambda: float | None = Field(
        None, ge=0, description="Grokfast amplification lambda; null: the reference code's default for the filter "
        "(2 for ema, 5 for ma)."
    )
    grad_filter_window: int = Field(100, ge=1, le=10_000, description="Grokfast-MA window size.")
    orthogonal: bool = Field(
        False, description="⊥Grad (Prieto et al. 2025): before the step, remove from each parameter tensor's "
        "gradient its component along the weights and rescale it to its original norm (⊥AdamW, ⊥SGD)."
    )

    @model_validator(mode="after")
    def _check_filter(self) -> OptimCfg:
        # The Grokfast README's MNIST command sets alpha and lambda but not the filter, so it runs none:
        # a filter setting without its filter is refused instead of silently ignored.
        used = {"ema": ("grad_filter_alpha", "grad_filter_lambda"), "ma": ("grad_filter_window", "grad_filter_lambda"),
                "none": ()}[self.grad_filter]
        unused = [name for name in ("grad_filter_alpha", "grad_filter_lambda", "grad_filter_window")
                  if name not in used and getattr(self, name) != OptimCfg.model_fields[name].default]
        if unused:
            settings = ", ".join(f"optim.{name}={getattr(self, name)}" for name in unused)
            needs = "optim.grad_filter=ma" if "grad_filter_window" in unused else "optim.grad_filter=ema"
            raise ValueError(f"{settings}: no effect with optim.grad_filter={self.grad_filter}; set {needs} "
                             f"to use it, or leave it out")
        return self

    @property
    def filter_lambda(self) -> float:
        """grad_filter_lambda, or the Grokfast code's default for the chosen filter."""
        if self.grad_filter_lambda is not None:
            return self.grad_filter_lambda
        return {"ema": 2.0, "ma": 5.0}.get(self.grad_filter, 0.0)


# ------------------------------------------------------------------ training/eval


class MaskCfg(Strict):
    """A fixed sparsity mask over the weight matrices (Minegishi et al. 2023's grokking tickets)."""

    kind: Literal["magnitude", "random"] = Field(
        ..., description="magnitude: keep the largest |weights| of the source run's final checkpoint (global over "
        "all weight matrices); random: a seeded random mask with the same density."
    )
    density: float = Field(..., gt=0, lt=1, description="Fraction of weight-matrix entries kept.")
    source: str | None = Field(None, description="Run folder whose final weights are scored (kind=magnitude).")

    @model_validator(mode="after")
    def _check(self) -> MaskCfg:
        if self.kind == "magnitude" and not self.source:
            raise ValueError("train.mask.kind=magnitude needs train.mask.source: the run folder of the trained "
                             "dense network whose final weights are scored")
        return self


class TrainCfg(Strict):
    """The training loop."""

    steps: int = Field(10_000, ge=1, description="Number of optimizer updates.")
    batch_size: int | None = Field(
        None, ge=1, description="Minibatch size; null means full batch. Batches are reshuffled every epoch."
    )
    drop_last: bool = Field(
        True, description="Drop each epoch's last, smaller minibatch; false keeps it as its own step "
        "(danielmamay/grokking)."
    )
    loss: Literal["cross_entropy", "stablemax", "mse", "template_mse"] = Field(
        "cross_entropy", description="stablemax: cross-entropy over StableMax instead of softmax (Prieto et al. "
        "2025: s(x) = x+1 for x >= 0, 1/(1-x) below; no softmax collapse); "
        "mse regresses one-hot targets (or a regression task's targets); "
        "template_mse regresses a fixed random template per class and predicts the nearest (Liu et al. 2022)."
    )
    template_dim: int = Field(30, ge=1, description="Length of each class template for loss=template_mse.")
    loss_dtype: Literal["float16", "float32", "float64"] = Field(
        "float32", description="Precision of the loss computation (float64 avoids late float32 loss spikes and "
        "delays softmax collapse; float16 brings it on early, Prieto et al. 2025)."
    )
    mask: MaskCfg | None = Field(
        None, description="Train only the kept entries of the weight matrices; the others stay 0. The surviving "
        "weights start from this run's own initialization (rewinding, for a ticket)."
    )
    init_norm: float | None = Field(
        None, gt=0, description="Rescale the initial parameters to this total L2 norm (norm-matched controls)."
    )
    fixed_weight_norm: bool = Field(
        False, description="After every step rescale all parameters to their initial total L2 norm (Omnigrok's "
        "constrained runs; set the norm through model.init_scale)."
    )
    checkpoint_every: int = Field(1000, ge=1, description="Steps between checkpoints (also taken at the end).")
    keep_checkpoints_every: int | None = Field(
        None, ge=1, description="Keep the checkpoints at multiples of this step (others are pruned; the newest is "
        "always kept): for analyses across training such as `groklab plot RUN --measure embedding`."
    )
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
    probes: list[str] = Field(
        default_factory=list, description="Extra measurements of the model at evaluations, by name: the probes "
        "registered in groklab/probes/ (docs/history.md lists each one's series). A probe that cannot measure the "
        "run's task or model is refused with what it needs."
    )
    probe_every: int | None = Field(
        None, gt=0, description="Measure the probes only at evaluations whose step is a multiple of this (and at "
        "the last step); None: at every evaluation. Each record with probes says what they cost (probe_s)."
    )
    key_frequency_rule: Literal["best_per_neuron", "share"] = Field(
        "best_per_neuron", description="progress: which frequencies are key. best_per_neuron: every neuron's best "
        "frequency (the paper's code, np.unique of each neuron's argmax; neurons that never fire are left out); "
        "share: the best frequencies of neurons it explains at least 85% of (groklab before version 2 of "
        "nanda2023)."
    )
    lc_anchors: int = Field(128, ge=1, description="local_complexity: anchor points per set (train, test, random).")
    lc_radius: float = Field(0.5, gt=0, description="local_complexity: radius of the neighbourhood of each anchor.")
    lc_directions: int = Field(25, ge=1, description="local_complexity: orthonormal directions (2x vertices).")
    adv_samples: int = Field(512, ge=1, description="adversarial: test images attacked (the first ones).")
    adv_epsilon: float = Field(0.1, gt=0, description="adversarial: L-infinity budget of the PGD attack.")
    adv_step: float = Field(0.01, gt=0, description="adversarial: PGD step size.")
    adv_iterations: int = Field(10, ge=1, description="adversarial: PGD iterations.")

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
    preset_version: int | None = Field(
        None, description="That preset's version when the run was configured (a preset's version changes with "
        "anything that changes its runs' results).")
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
        if self.task.name == "linear_teacher":
            if self.train.loss != "mse" or self.eval.accuracy != "loss_below" or self.model.name != "linear":
                raise ValueError(
                    "task linear_teacher is a regression task: it needs model.name=linear, train.loss=mse and "
                    "eval.accuracy=loss_below with an eval.loss_threshold"
                )
        elif self.model.name == "linear":
            raise ValueError("model linear needs real-valued inputs: use it with task.name=linear_teacher")
        if self.task.name == "mnist" and self.model.name != "mlp":
            raise ValueError(f"task mnist gives real-valued images; model {self.model.name} reads tokens: "
                             "use model.name=mlp")
        keep = self.train.keep_checkpoints_every
        if keep is not None and keep % self.train.checkpoint_every:
            raise ValueError(f"train.keep_checkpoints_every={keep} must be a multiple of train.checkpoint_every="
                             f"{self.train.checkpoint_every} (only written checkpoints can be kept)")
        has_embedding = self.model.name in ("transformer", "repr_mlp", "token_sum_mlp")
        if (self.optim.embedding_lr, self.optim.embedding_weight_decay) != (None, None) and not has_embedding:
            raise ValueError(f"optim.embedding_lr/embedding_weight_decay need a model with an embedding "
                             f"(transformer or repr_mlp); model {self.model.name} has none")
        bs, n_train = self.train.batch_size, self.task.n_train
        if bs is not None and bs > n_train:
            raise ValueError(
                f"train.batch_size={bs} is larger than the training set ({n_train} examples); "
                f"use train.batch_size<={n_train} or train.batch_size=null for full batch"
            )
        return self
