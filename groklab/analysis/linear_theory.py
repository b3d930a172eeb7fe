"""Predicted learning curves of the linear teacher-student model (Levi et al. 2024), derived here.

Model: x ~ N(0, I_d), y = T x with T_oi ~ N(0, 1/d), student S_oi(0) ~ N(0, s0^2/d), loss
(1/(N d_out)) sum_n |(S - T) x_n|^2 plus coupled weight decay g (torch SGD), full-batch GD with lr eta.
In the eigenbasis of the empirical covariance (eigenvalue mu) each row of D = S - T evolves as
d <- d (1 - eta a) - eta g t with a = 2 mu / d_out + g, so with r = (1 - eta a)^k
  E[d_k^2] d = s0^2 r^2 + (g/a + (1 - g/a) r)^2.
Test loss = mean over the spectrum of that expression; train loss = mean of mu times it. For lambda =
d / N < 1 the spectrum follows the Marchenko-Pastur law, so the curves depend on lambda, d, d_out, eta,
g and s0 only. A sample counts as correct when its loss l = |D x|^2 / d_out is below eps. l is a
Gaussian quadratic form; matching its mean L and variance gives l ~ L chi^2_k / k with
k = d_out / (1 + (d_out + 1) m2 / (d L^2)), m2 the spectral mean of the squared per-mode term: late in
training few slow modes carry the error and k falls below d_out. A fraction q of samples is correct once
L <= eps k / Q(q, k), Q the chi-square quantile (Wilson-Hilferty); the predicted step of a threshold is
the first step where that holds.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np


def marchenko_pastur(ratio: float, points: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes and weights (summing to 1) for the MP eigenvalue density at lambda = ratio < 1."""
    if not 0 < ratio < 1:
        raise ValueError(f"the prediction needs lambda = d_in / n_train in (0, 1); got {ratio:.3g}")
    low, high = (1 - math.sqrt(ratio)) ** 2, (1 + math.sqrt(ratio)) ** 2
    # substitution mu = low + (high-low) sin^2(theta) removes the square-root edges
    theta = (np.arange(points) + 0.5) / points * (math.pi / 2)
    mu = low + (high - low) * np.sin(theta) ** 2
    density = np.sqrt((high - mu) * (mu - low)) / (2 * math.pi * ratio * mu)
    weights = density * (high - low) * 2 * np.sin(theta) * np.cos(theta) * (math.pi / 2) / points
    return mu, weights / weights.sum()


def predicted_losses(
    steps: np.ndarray, ratio: float, d_in: int, d_out: int, lr: float, weight_decay: float = 0.0,
    init_scale: float = 0.0,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train": (loss, dof), "test": (loss, dof)} expected at each step: the mean per-sample loss and the
    effective chi-square degrees of freedom of its distribution over samples."""
    mu, w = marchenko_pastur(ratio)
    a = 2 * mu / d_out + weight_decay
    r = np.power.outer(1 - lr * a, np.asarray(steps, dtype=float)).T  # [steps, nodes]
    fixed = weight_decay / a
    per_mode = init_scale**2 * r**2 + (fixed + (1 - fixed) * r) ** 2
    curves = {}
    for split, weight in (("train", mu), ("test", np.ones_like(mu))):
        loss = per_mode @ (w * weight)
        relative_second = (per_mode * weight / np.maximum(loss, np.finfo(float).tiny)[:, None]) ** 2 @ w
        curves[split] = (loss, d_out / (1 + (d_out + 1) * relative_second / d_in))
    return curves


def chi2_quantile(q: float, dof: np.ndarray) -> np.ndarray:
    """Wilson-Hilferty approximation of the q-quantile of chi^2 with `dof` degrees of freedom."""
    z = NormalDist().inv_cdf(q)
    c = 2 / (9 * dof)
    return dof * np.maximum(1 - c + z * np.sqrt(c), 0) ** 3


def predicted_step(
    curve: tuple[np.ndarray, np.ndarray], steps: np.ndarray, threshold: float, accuracy: float
) -> int | None:
    """First step at which the predicted accuracy reaches `accuracy` (None if never within `steps`)."""
    loss, dof = curve
    reached = np.flatnonzero(loss * chi2_quantile(accuracy, dof) <= threshold * dof)
    return int(steps[reached[0]]) if reached.size else None


def paper_grokking_delay(ratio: float, d_out: int, lr: float) -> float:
    """Levi et al.'s closed form for the grokking time (arXiv 2310.16441, Sec. 3.1.3 Eq. 12, gradient flow, no
    weight decay; Sec. 3.2 Eq. 13: eta_0 -> eta_0 / d_out for d_out outputs), in groklab's steps:
    log(1 / (1 - sqrt(lambda))) / (2 (eta_0 / d_out) (1 - sqrt(lambda))^2). The paper's eta_0 is 2 lr here:
    its loss carries a 1/2 that groklab's MSE does not, so groklab's gradient is twice as large."""
    gap = 1 - math.sqrt(ratio)
    return math.log(1 / gap) / (2 * (2 * lr / d_out) * gap**2)


def first_predicted_steps(
    last_step: int, ratio: float, d_in: int, d_out: int, lr: float, weight_decay: float, init_scale: float,
    threshold: float, accuracies: dict[str, float], block: int = 256,
) -> dict[str, int | None]:
    """{split: first step in [0, last_step] at which the predicted accuracy of `split` reaches its accuracy}, as
    predicted_step on the whole curve would find, computed `block` steps at a time: it stops at the block where
    every split has its step, or where every mode's (1 - lr a)^k has reached 0 or overflowed, after which no later
    step differs (so a long run costs no [steps, nodes] table)."""
    mu, _ = marchenko_pastur(ratio)
    base = np.abs(1 - lr * (2 * mu / d_out + weight_decay))
    found: dict[str, int | None] = dict.fromkeys(accuracies)
    for start in range(0, last_step + 1, block):
        steps = np.arange(start, min(start + block, last_step + 1))
        curves = predicted_losses(steps, ratio, d_in, d_out, lr, weight_decay, init_scale)
        for split, accuracy in accuracies.items():
            if found[split] is None:
                found[split] = predicted_step(curves[split], steps, threshold, accuracy)
        power = base ** float(steps[-1])
        if all(step is not None for step in found.values()) or not np.any((power > 0) & np.isfinite(power)):
            break
    return found


def predict_events(cfg, last_step: int) -> dict[str, float | int | None]:
    """Predicted memorization and generalization steps of a linear_teacher run (this module's derivation), and
    the paper's own closed-form grokking delay (Eq. 12/13) next to them."""
    task, a = cfg.task, cfg.analysis
    found = first_predicted_steps(last_step, task.ratio, task.d_in, task.d_out, cfg.optim.lr, cfg.optim.weight_decay,
                                  cfg.model.init_scale, cfg.eval.loss_threshold,
                                  {"train": a.memorization_threshold, "test": a.generalization_threshold})
    return {
        "ratio": task.ratio,
        "predicted_memorization_step": found["train"],
        "predicted_generalization_step": found["test"],
        "paper_predicted_delay": paper_grokking_delay(task.ratio, task.d_out, cfg.optim.lr),
    }
