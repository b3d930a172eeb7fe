"""Prieto, Barsbey, Mediano, Birdal 2025: grokking at the edge of numerical stability (StableMax, ⊥Grad)."""

from groklab.claims import Arm, Claim, Fact, StepsTo, at_least, at_most
from groklab.presets import Preset, ReportedOutcome, Study, merged

# Canonical: LucasPrietoAl/grokking-at-the-edge-of-numerical-stability, run_main_experiments.sh Figure 1
# (StableMax row): (a+b) mod 113 on the concatenated one-hots, 40% training data, full batch, an MLP
# 226-200-200-113 with ReLU and no biases, AdamW lr 0.01, betas (0.9, 0.999), eps 1e-25, no weight decay,
# StableMax cross-entropy in float64, 80,000 epochs, seed 42.
CANONICAL = {
    "seed": 42,
    "task": {"name": "modular", "operation": "x+y", "p": 113, "train_frac": 0.4, "format": "x_y"},
    "model": {"name": "mlp", "width": 200, "depth": 3, "activation": "relu", "bias": False},
    "optim": {"name": "adamw", "lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-25, "weight_decay": 0.0,
              "warmup_steps": 0},
    "train": {"steps": 80_000, "batch_size": None, "loss": "stablemax", "loss_dtype": "float64",
              "checkpoint_every": 5000},
    "eval": {"every": 500, "log_points": 60, "probes": ["softmax_collapse"]},
}

# Figure 1's other rows: softmax cross-entropy in float64 (collapse delayed, no grokking) and ⊥AdamW, which
# generalizes within 300 epochs. The ⊥AdamW row runs at the optimizer settings the code ends up using (see notes).
CANONICAL_SOFTMAX = merged(CANONICAL, {"optim": {"betas": [0.9, 0.99]}, "train": {"loss": "cross_entropy"}})
CANONICAL_ORTHOGONAL = merged(CANONICAL, {
    "optim": {"betas": [0.9, 0.999], "eps": 1e-8, "orthogonal": True},
    "train": {"steps": 300, "loss": "cross_entropy", "loss_dtype": "float32", "checkpoint_every": 100},
    "eval": {"every": 10},
})

# Quick: the canonical data and model with float32 softmax cross-entropy, 2000 full-batch steps; the
# study below compares it with StableMax and ⊥AdamW at the same budget.
QUICK = merged(CANONICAL, {
    "optim": {"betas": [0.9, 0.99]},
    "train": {"steps": 2000, "loss": "cross_entropy", "loss_dtype": "float32", "checkpoint_every": 500},
    "eval": {"every": 50, "log_points": 40, "probes": ["softmax_collapse", "representation"]},
})

# Claims of Sec. 2-5 and the repository's run_main_experiments.sh (Fig. 1: StableMax 80,000 epochs, lr 0.01;
# ⊥AdamW 300 epochs), read in the main text. The StableMax run stops at 99% test accuracy.
CLAIMS = (
    Claim(
        key="stablemax_groks_without_regularization",
        statement="with StableMax in place of softmax an MLP groks modular addition without weight decay",
        source="Fig. 1, Fig. 4 caption ('no regularization'); run_main_experiments.sh (80,000 epochs)",
        paper="groks within the 80,000-epoch run (epoch read off)",
        measure=StepsTo("stablemax", 0.99),
        bound=at_most(80_000),
        arms={"stablemax": Arm("canonical", ("train.stop_at_test_acc=0.99",))},
    ),
    Claim(
        key="float32_softmax_collapses",
        statement="with softmax in float32 and no regularization, Softmax Collapse zeroes the gradient of a large "
        "fraction of the training samples and learning stops",
        source="Sec. 3, Fig. 2 (its legend: 50% Softmax Collapse; the plotting code marks 40%, "
        "LucasPrietoAl/grokking-at-the-edge-of-numerical-stability#9)",
        paper="40-50% of the samples",
        measure=Fact("softmax", "max_sc_frac"),
        bound=at_least(0.4),
        arms={"softmax": Arm("canonical_softmax", ("train.loss_dtype=float32", "train.steps=20000",
                                                     "eval.probes=[softmax_collapse]"))},
    ),
    Claim(
        key="orthogonal_gradient_generalizes_without_delay",
        statement="⊥AdamW (the gradient's component along the weights removed) generalizes without the delay, "
        "within 300 epochs",
        source="Fig. 1; run_main_experiments.sh (300 epochs)",
        paper="within 300 epochs",
        measure=StepsTo("orthogonal", 0.99),
        bound=at_most(300),
        arms={"orthogonal": Arm("canonical_orthogonal")},
    ),
)

# The quick scale is softmax in float32 without regularization: it memorizes with test accuracy at chance while
# training samples collapse; the orthogonal-gradient run (300 epochs) is small enough to be read as it is.
QUICK_CLAIMS = (CLAIMS[2],)

PRESET = Preset(
    id="prieto2025_stablemax",
    alias="12",
    title="Grokking at the edge of numerical stability",
    citation="Prieto, Barsbey, Mediano, Birdal. ICLR 2025, arXiv:2501.04697",
    url="https://github.com/LucasPrietoAl/grokking-at-the-edge-of-numerical-stability",
    version=2,  # 2: quick scale 2000 steps (was 3000)
    quick_seconds=72,  # training the quick scale, two runs side by side (make demo), 2026-11-30
    scales={"canonical": CANONICAL, "canonical_softmax": CANONICAL_SOFTMAX,
            "canonical_orthogonal": CANONICAL_ORTHOGONAL, "quick": QUICK},
    claims=CLAIMS,
    quick_claims=QUICK_CLAIMS,
    reported=ReportedOutcome(
        outcome="grokked",
        summary="without regularization, softmax cross-entropy stops learning once the training samples' softmax "
        "rounds to one-hot (softmax collapse); StableMax groks without weight decay over tens of thousands of "
        "epochs; ⊥AdamW generalizes within 300 epochs without a long delay (Figure 1)",
    ),
    quick_outcome="memorizing",
    studies={
        "stability": Study(
            scale="quick", grid={"train.loss": ["cross_entropy", "stablemax"], "optim.orthogonal": ["false", "true"]},
            question="Does StableMax avoid softmax collapse, and does ⊥AdamW generalize without the delay?",
        ),
    },
    notes=(
        "Paper vs code. ⊥AdamW: grokking_experiments.py builds OrthoGrad(params, AdamW, lr, weight_decay) and then "
        "loads the plain AdamW's state dict into the wrapper; that replaces the wrapper's parameter groups but not "
        "the wrapped AdamW's, which keeps torch's defaults betas (0.9, 0.999) and eps 1e-8 (REFERENCE.md flagged "
        "this). We run ⊥AdamW at those effective values rather than the intended (0.9, 0.99) and 1e-25. The "
        "projection is per parameter tensor, rescaled to the gradient's norm, with 1e-30 guards, as orthograd.py. "
        "StableMax: s(x) = x + 1 (x >= 0), 1/(1 - x) (x < 0), loss in float64; the code adds 1e-30 inside 1/(1 - x), "
        "which changes nothing in float64 at these logits. Softmax collapse (probe softmax_collapse) is the code "
        "logger's zero-terms measure, the share of training samples whose loss rounds to exactly 0 in the loss "
        "precision (for softmax: every other class absorbed in the sum of exponentials), plus the share whose loss "
        "gradient is exactly zero. The code shuffles the full batch every epoch; the order of a "
        "full batch does not change our sum beyond rounding, so we do not. Quick: the paper's figures use "
        "80,000 epochs for StableMax; the quick scale is the float32 softmax run for 2000 steps (measured, seed 42: "
        "train 100% by step 50, test at chance throughout, the collapsed share 0 to step 1200, then 8% at 1700, "
        "51% at 1900; run on, a loss spike at step 2050 resets it to about 14%); its study adds StableMax and "
        "⊥AdamW at the same budget."
    ),
)
