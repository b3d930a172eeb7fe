"""Accuracy under a projected-gradient-descent attack (Humayun et al. 2024's 'delayed robustness')."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from groklab.analysis.robustness import delayed_robustness
from groklab.probes.base import Panel, Probe, register
from groklab.probes.geometry import needs_images_and_mlp


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


def adversarial_probe(model: nn.Module, data, cfg) -> dict[str, float]:
    """adversarial_acc: accuracy on the first eval.adv_samples test images after the attack."""
    e = cfg.eval
    x, y = data.test_x[: e.adv_samples], data.test_y[: e.adv_samples]
    with torch.enable_grad():
        attacked = pgd(model, x, y, e.adv_epsilon, e.adv_step, e.adv_iterations)
    with torch.no_grad():
        return {"adversarial_acc": (model(attacked).argmax(-1) == y).double().mean().item()}


def robustness_facts(cfg, history) -> dict:
    """When clean accuracy settled, the adversarial-accuracy transitions and the late one (Humayun et al.'s
    delayed robustness)."""
    if not history.has("adversarial_acc"):
        return {}
    robustness = delayed_robustness(history.steps, history.column("test_acc"), history.column("adversarial_acc"))
    late = robustness["late_transition"]
    return {"clean_settled_step": robustness["clean_settled_step"],
            "adversarial_transitions": len(robustness["adversarial_transitions"]),
            "late_adversarial_step": late["mid_step"] if late else None,
            "late_adversarial_gain": late["to_acc"] - late["from_acc"] if late else None,
            "robustness_delay_ratio": robustness["delay_ratio"],
            "final_adversarial_acc": history.records[-1].get("adversarial_acc")}


register(Probe(
    "adversarial", adversarial_probe, unsupported=needs_images_and_mlp("adversarial"), facts=robustness_facts,
    panels=(Panel("adversarial vs clean test accuracy", (("adversarial_acc", "adversarial"),
                                                         ("test_acc", "clean test"))),),
))
