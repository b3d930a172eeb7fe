"""Accuracy under a projected-gradient-descent attack (Humayun et al. 2024's 'delayed robustness')."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from groklab.probes.base import PROBES


def pgd(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, epsilon: float, step: float, iterations: int
) -> torch.Tensor:
    """L-infinity PGD on the cross-entropy of the outputs, from the clean input, kept inside [0, 1]."""
    adversarial = x.clone()
    for _ in range(iterations):
        adversarial.requires_grad_(True)
        loss = F.cross_entropy(model(adversarial), y)
        (grad,) = torch.autograd.grad(loss, adversarial)
        with torch.no_grad():
            adversarial = adversarial + step * grad.sign()
            adversarial = torch.min(torch.max(adversarial, x - epsilon), x + epsilon).clamp(0, 1)
    return adversarial.detach()


@PROBES.register("adversarial")
def adversarial_probe(model: nn.Module, data, cfg) -> dict[str, float]:
    """adversarial_acc: accuracy on the first eval.adv_samples test images after the attack."""
    e = cfg.eval
    x, y = data.test_x[: e.adv_samples], data.test_y[: e.adv_samples]
    with torch.enable_grad():
        attacked = pgd(model, x, y, e.adv_epsilon, e.adv_step, e.adv_iterations)
    with torch.no_grad():
        return {"adversarial_acc": (model(attacked).argmax(-1) == y).double().mean().item()}
