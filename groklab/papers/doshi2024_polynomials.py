"""Gromov 2023 (grokking modular arithmetic) and Doshi, He, Das, Gromov 2024 (grokking modular polynomials)."""

from groklab.presets import Preset, ReportedOutcome, merged

# No public code was located. Canonical follows the papers' text (REFERENCE.md; numbers unconfirmed):
# a two-layer MLP (one hidden layer) on the concatenated one-hots of x and y, quadratic activation, no
# biases, width 500, x+y mod 97 with half of the table for training, full batch, AdamW with weight decay.
CANONICAL = {
    "seed": 0,
    "task": {"name": "modular", "operation": "x+y", "p": 97, "train_frac": 0.5, "format": "x_y"},
    "model": {"name": "mlp", "width": 500, "depth": 2, "activation": "quadratic", "bias": False, "init_scale": 1.0},
    "optim": {"name": "adamw", "lr": 5e-3, "betas": [0.9, 0.98], "weight_decay": 1.0, "warmup_steps": 10},
    "train": {"steps": 10_000, "batch_size": None, "checkpoint_every": 2000},
    "eval": {"every": 50, "log_points": 40, "probes": ["fourier"]},
}

QUICK = merged(CANONICAL, {"train": {"steps": 1000, "checkpoint_every": 500}})

# Doshi et al.'s extension: multiplication is addition after relabelling by discrete logarithms.
MULTIPLICATION = merged(QUICK, {"task": {"operation": "x*y"}})

PRESET = Preset(
    id="doshi2024_polynomials",
    alias="08",
    title="Grokking modular arithmetic (Gromov 2023) and grokking modular polynomials (Doshi et al. 2024)",
    citation="Gromov. arXiv:2301.02679 (2023); Doshi, He, Das, Gromov. arXiv:2406.03495 (2024)",
    url="https://arxiv.org/abs/2406.03495",
    version=1,
    scales={"canonical": CANONICAL, "quick": QUICK, "multiplication": MULTIPLICATION},
    reported=ReportedOutcome(
        outcome="grokked",
        summary="the quadratic MLP groks modular addition and multiplication; its neurons approach the analytic "
        "Fourier solution (one frequency per neuron), which reaches 100% test accuracy",
    ),
    notes=(
        "No public code was found for either paper; the settings follow their text (REFERENCE.md marks the "
        "numbers unconfirmed). Gromov also reports grokking with plain full-batch GD on MSE without "
        "regularization; we use his AdamW variant with cross-entropy, which groks in a few hundred steps. The "
        "seeds' failed run (MSE 0.0103 = (1/97)(1-1/97) on train and test, accuracy at chance) had collapsed "
        "to predicting the mean one-hot target; with these settings training accuracy leaves chance by step "
        "50. The analytic solution is built for x+y and x*y (groklab.probes.fourier); multi-term addition "
        "(task.n_terms) trains but its analytic solution, which needs an x^n activation, is not built."
    ),
)
