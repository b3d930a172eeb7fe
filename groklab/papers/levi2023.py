"""Levi, Beck, Bar-Sinai 2024: grokking in linear estimators (a linear teacher-student model)."""

from groklab.presets import Preset, ReportedOutcome, Study, merged

# No public code: the setup follows the paper's abstract and text (Gaussian inputs, linear teacher and
# student, MSE, gradient descent, accuracy = per-sample loss below eps). The exact numbers of the
# paper's figures were not retrieved (REFERENCE.md marks them unconfirmed); these are within its ranges:
# d_in 10^2-10^3, lambda = d_in / n_train in (0.1, 0.9), eps 1e-3, plain GD. The student starts at
# S = 0 and weight decay is 0: with weight decay g the test loss floors near (g d_out / 2 mu_min)^2,
# which must stay below eps for generalization to happen at all (see groklab/analysis/linear_theory.py).
CANONICAL = {
    "seed": 0,
    "task": {"name": "linear_teacher", "d_in": 1000, "d_out": 10, "n_train": 2000, "n_test": 4000},
    "model": {"name": "linear", "init_scale": 0.0},
    "optim": {"name": "sgd", "lr": 2.0, "weight_decay": 0.0, "momentum": 0.0, "warmup_steps": 0},
    "train": {"steps": 3000, "batch_size": None, "loss": "mse", "checkpoint_every": 1000},
    "eval": {"every": 1, "log_points": 0, "accuracy": "loss_below", "loss_threshold": 1e-3},
    # accuracy is a threshold on a loss, so both splits use the same 95% bar
    "analysis": {"memorization_threshold": 0.95, "generalization_threshold": 0.95, "min_delay_ratio": 1.5},
}

# Quick: d_in 200 (the same lambda = 0.5) runs in seconds; the lambda sweep is the signature.
QUICK = merged(CANONICAL, {
    "task": {"d_in": 200, "n_train": 400, "n_test": 2000},
    "train": {"steps": 800, "checkpoint_every": 400},
})

PRESET = Preset(
    id="levi2023_linear",
    alias="09",
    title="Grokking in linear estimators: a solvable model that groks without understanding",
    citation="Levi, Beck, Bar-Sinai. ICLR 2024. arXiv:2310.16441",
    url="https://arxiv.org/abs/2310.16441",
    version=1,
    scales={"canonical": CANONICAL, "quick": QUICK},
    reported=ReportedOutcome(
        outcome="grokked",
        summary="train accuracy (loss below eps) reaches 100% before test accuracy; the delay is set by "
        "lambda = d_in/n_train through the Marchenko-Pastur spectrum and grows as lambda -> 1",
    ),
    studies={
        "lambda": Study(
            scale="quick",
            grid={"task.n_train": [250, 290, 340, 400, 500, 700, 1000, 2000]},
            question="measured vs predicted grokking time over lambda = d_in / n_train (0.1 to 0.8)",
        ),
    },
    notes=(
        "The grokking-time prediction is our own derivation (the paper's formula was not retrieved): exact "
        "mean learning curves of full-batch GD under the Marchenko-Pastur law, turned into accuracies by "
        "treating each sample's loss as L chi^2_{d_out}/d_out. The loss is averaged over the outputs (the "
        "gradient carries 2/d_out), which is why the lr is 2."
    ),
)
