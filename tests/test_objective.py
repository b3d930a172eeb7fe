"""Losses and accuracy rules: nearest-template accuracy (Liu et al.) and regression targets (Levi et al.)."""

import torch

from groklab import api
from groklab.config import validate_config
from groklab.objective import Objective


def test_template_objective_scores_the_nearest_template():
    cfg = validate_config({"task": {"name": "pair_sum", "p": 4, "n_train": 6},
                           "model": {"name": "repr_mlp"}, "train": {"loss": "template_mse", "template_dim": 5}})
    objective = Objective(cfg)
    assert objective.templates.shape == (7, 5) and objective.output_dim(7) == 5
    targets = torch.tensor([0, 3, 6])
    exact = objective.templates[targets]
    losses = objective.per_sample(exact, targets)
    assert torch.equal(losses, torch.zeros(3, dtype=losses.dtype))
    assert objective.correct(exact, targets, losses).all()
    assert not objective.correct(objective.templates[[1, 2, 5]], targets, losses).any()
    assert torch.equal(Objective(cfg).templates, objective.templates)  # seeded


def test_regression_targets_are_used_as_they_are():
    cfg = api.resolve("levi2023_linear", "quick")
    objective = Objective(cfg)
    outputs, targets = torch.zeros(2, 3), torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 3e-2]])
    losses = objective.per_sample(outputs, targets)
    assert torch.allclose(losses, torch.tensor([1.0, 3e-4]))
    assert objective.correct(outputs, targets, losses).tolist() == [False, True]  # threshold 1e-3
