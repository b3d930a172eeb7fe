"""Typed, validated run configuration.

Every model forbids unknown keys, every field documents itself, and cross-field rules
(division needs a prime modulus, a batch no larger than the training set) are checked
before a single tensor exists.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from groklab.config.base import Strict
from groklab.config.model import ModelCfg, TransformerCfg
from groklab.config.task import ModularTaskCfg, TaskCfg

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
    weight_decay: float = Field(1.0, ge=0, description="Weight decay coefficient (see weight_decay_vectors).")
    weight_decay_vectors: bool = Field(
        True, description="Decay one-dimensional parameters (biases, LayerNorm gains) too; false exempts them, as "
        "GPT-2's Hugging Face training code does (simpletransformers' no_decay list)."
    )
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
    cuda_graph: bool = Field(
        False, description="On a CUDA device, capture the training step once as a CUDA graph and replay it "
        "(launch-free steps for small models; the same updates up to float rounding). Ignored when device=auto "
        "finds no GPU."
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
    stop_when_not_learning: int | None = Field(
        5000, ge=1, description="Stop a run whose training loss has stayed within 1% of the loss of the best "
        "constant prediction (ln C for a balanced classifier, the targets' variance for MSE) with training accuracy "
        "below memorization for this many steps after the warm-up: it learns nothing (outcome not_learning, "
        "stopped early; the seeds' dead runs). The default is longer than any preset's own stretch at that loss "
        "(docs/analysis.md); null trains all steps regardless."
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
        "the last step); None: at every evaluation. Each record with probes says what they cost (probe_s; "
        "probe_s/<name> each)."
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
        if self.train.cuda_graph:
            self._check_cuda_graph()
        bs, n_train = self.train.batch_size, self.task.n_train
        if bs is not None and bs > n_train:
            raise ValueError(
                f"train.batch_size={bs} is larger than the training set ({n_train} examples); "
                f"use train.batch_size<={n_train} or train.batch_size=null for full batch"
            )
        return self

    def _check_cuda_graph(self) -> None:
        """train.cuda_graph needs a step that is a fixed sequence of device work."""
        bs = self.train.batch_size
        unsupported = {
            "device=cpu": self.device == "cpu",
            f"optim.name={self.optim.name} (SGD takes its learning rate as a host number; use adam or adamw)":
                self.optim.name not in ("adam", "adamw"),
            "optim.grad_filter=ma (its window is a Python list; use optim.grad_filter=ema)":
                self.optim.grad_filter == "ma",
            "train.fixed_weight_norm (it reads the weight norm back to the host every step)":
                self.train.fixed_weight_norm,
            "train.drop_last=false with a last minibatch of another size (set train.drop_last=true)":
                bs is not None and not self.train.drop_last and self.task.n_train % bs != 0,
        }
        reasons = [reason for reason, applies in unsupported.items() if applies]
        if reasons:
            raise ValueError(f"train.cuda_graph=true cannot capture this run's step: {'; '.join(reasons)}. "
                             "Set train.cuda_graph=false to train it eagerly")
