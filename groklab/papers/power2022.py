"""Power, Burda, Edwards, Babuschkin, Misra 2022: grokking on small algorithmic datasets."""

from groklab.presets import Preset, ReportedOutcome, merged

# Canonical: the paper's setting for its weight-decay experiments, as openai/grok builds the model
# and danielmamay/grokking sets the optimizer (see notes for the disagreements).
CANONICAL = {
    "seed": 0,
    "task": {"name": "modular", "operation": "x/y", "p": 97, "train_frac": 0.5, "format": "x_op_y_eq"},
    "model": {
        "name": "transformer", "n_layers": 2, "d_model": 128, "n_heads": 4, "d_mlp": 512, "activation": "relu",
        "norm": "post", "positions": "sinusoidal", "attn_bias": False, "mlp_bias": False, "init": "pytorch",
    },
    "optim": {"name": "adamw", "lr": 1e-3, "betas": [0.9, 0.98], "eps": 1e-8, "weight_decay": 1.0,
              "warmup_steps": 10},
    "train": {"steps": 100_000, "batch_size": 512, "checkpoint_every": 2000},
    "eval": {"every": 100, "log_points": 60},
}

QUICK = merged(CANONICAL, {
    "task": {"train_frac": 0.3},
    "model": {"d_model": 64, "d_mlp": 256},
    "train": {"steps": 3000, "checkpoint_every": 500},
    "eval": {"every": 50, "log_points": 40},
})

PRESET = Preset(
    id="power2022",
    alias="01",
    title="Grokking: generalization beyond overfitting on small algorithmic datasets",
    citation="Power, Burda, Edwards, Babuschkin, Misra. arXiv:2201.02177 (2022)",
    url="https://github.com/openai/grok",
    version=1,
    scales={"canonical": CANONICAL, "quick": QUICK},
    reported=ReportedOutcome(
        outcome="grokked",
        summary="x/y mod 97 at 50% training data: training accuracy near 100% by about 10^3 updates, validation "
        "accuracy near 100% about an order of magnitude later with weight decay 1 (read off the paper's figures)",
        generalization_step=10_000,
        step_factor=5.0,
    ),
    notes="",
)
