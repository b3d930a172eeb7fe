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

QUICK = merged(CANONICAL, {"train": {"steps": 3000, "checkpoint_every": 1000}})

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
    notes="",
)
