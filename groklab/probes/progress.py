"""Nanda et al. 2023's progress measures for a transformer on (a + b) mod p.

Definitions follow mechanistic-interpretability-grokking/progress-measures-paper (transformers.py):
- the Fourier basis of Z_p: the constant, then cos and sin of 2 pi k x / p for k = 1..(p-1)/2, normalized;
- key frequencies: the MLP activations at the answer position over all p^2 inputs, centred per neuron and
  transformed in both operands; each neuron's frequency is the k whose {1, cos k, sin k}^2 block holds most of
  its variance; the key frequencies are those of the neurons where that share is at least KEY_SHARE;
- restricted loss: the logits projected onto cos(w_k (a+b)) and sin(w_k (a+b)) of the key frequencies, plus the
  mean of what the projection removed (the bias correction), scored on all p^2 inputs;
- excluded loss: the logits with those directions removed, scored on the training inputs only (all key
  frequencies together, and one at a time);
- Gini coefficients of the per-frequency Fourier norms of the embedding and of the neuron-logit map
  W_L = W_U W_out; the total squared weight norm.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from groklab.probes import PROBES

KEY_SHARE = 0.85  # a neuron counts towards a key frequency when that frequency explains this share of it


def fourier_basis(p: int) -> torch.Tensor:
    """[p, p] orthonormal rows: constant, cos 1, sin 1, cos 2, sin 2, ... (float64)."""
    x = torch.arange(p, dtype=torch.float64)
    rows = [torch.ones(p, dtype=torch.float64)]
    for k in range(1, (p - 1) // 2 + 1):
        rows += [torch.cos(2 * math.pi * k * x / p), torch.sin(2 * math.pi * k * x / p)]
    basis = torch.stack(rows)
    return basis / basis.norm(dim=1, keepdim=True)


def neuron_frequencies(activations: torch.Tensor, p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """activations [p*p, neurons] over inputs (a, b) in a-major order -> (each neuron's frequency 1..(p-1)/2,
    the share of its variance that frequency explains)."""
    acts = activations.double().reshape(p, p, -1)
    acts = acts - acts.mean(dim=(0, 1), keepdim=True)
    basis = fourier_basis(p)
    coefficients = torch.einsum("ia,jb,abn->ijn", basis, basis, acts).pow(2)  # [p, p, neurons]
    total = coefficients.sum(dim=(0, 1)).clamp_min(1e-30)
    shares = []
    for k in range(1, (p - 1) // 2 + 1):
        block = [0, 2 * k - 1, 2 * k]
        shares.append(coefficients[block][:, block].sum(dim=(0, 1)) / total)
    shares = torch.stack(shares)  # [frequencies, neurons]
    best_share, best = shares.max(dim=0)
    return best + 1, best_share


def key_frequencies(activations: torch.Tensor, p: int, share: float = KEY_SHARE) -> list[int]:
    """The frequencies of the neurons that one frequency explains at least `share` of (sorted, unique)."""
    frequency, explained = neuron_frequencies(activations, p)
    return sorted({int(k) for k in frequency[explained >= share]})


def sum_directions(p: int, frequencies: list[int]) -> torch.Tensor:
    """[p*p, 2 len(frequencies)] orthonormal columns cos(w_k (a+b)) and sin(w_k (a+b)), a-major inputs."""
    total = (torch.arange(p).repeat_interleave(p) + torch.arange(p).repeat(p)).double()
    columns = []
    for k in frequencies:
        angle = 2 * math.pi * k * total / p
        columns += [torch.cos(angle), torch.sin(angle)]
    if not columns:
        return torch.zeros(p * p, 0, dtype=torch.float64)
    directions = torch.stack(columns, dim=1)
    return directions / directions.norm(dim=0, keepdim=True)


def restricted_loss(logits: torch.Tensor, labels: torch.Tensor, directions: torch.Tensor) -> float:
    """Cross-entropy on all inputs of the logits kept to `directions`, with the bias correction."""
    logits = logits.double()
    projected = directions @ (directions.T @ logits)
    corrected = projected + (logits - projected).mean(dim=0, keepdim=True)
    return float(F.cross_entropy(corrected, labels))


def excluded_loss(logits: torch.Tensor, labels: torch.Tensor, directions: torch.Tensor, rows: torch.Tensor) -> float:
    """Cross-entropy on the inputs `rows` (the training set) of the logits with `directions` removed."""
    logits = logits.double()
    removed = logits - directions @ (directions.T @ logits)
    return float(F.cross_entropy(removed[rows], labels[rows]))


def gini(values: torch.Tensor) -> float:
    """Gini coefficient of non-negative values: 0 when all are equal, near 1 when one holds everything."""
    v = values.double().flatten().sort().values
    n = len(v)
    if n == 0 or v.sum() <= 0:
        return 0.0
    ranks = torch.arange(1, n + 1, dtype=torch.float64)
    return float((2 * (ranks * v).sum() / (n * v.sum())) - (n + 1) / n)


def frequency_norms(matrix: torch.Tensor, p: int) -> torch.Tensor:
    """matrix [p, d] indexed by a residue -> the norm of each frequency 1..(p-1)/2 (cos and sin together)."""
    coefficients = fourier_basis(p) @ matrix.double()
    power = coefficients.pow(2).sum(dim=1)
    return torch.stack([power[2 * k - 1] + power[2 * k] for k in range(1, (p - 1) // 2 + 1)]).sqrt()


def addition_inputs(p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every [a, b, =] sequence in a-major order and its answer (a + b) mod p."""
    a, b = torch.arange(p).repeat_interleave(p), torch.arange(p).repeat(p)
    return torch.stack([a, b, torch.full_like(a, p)], dim=1), (a + b) % p


def check_applicable(model: nn.Module, cfg) -> None:
    task = cfg.task
    if not (cfg.model.name == "transformer" and cfg.model.n_layers == 1 and task.name == "modular"
            and task.operation == "x+y" and task.format == "x_y_eq"):
        raise ValueError("eval.probes progress measures a 1-layer transformer on task.operation=x+y with "
                         "task.format=x_y_eq (Nanda et al. 2023's setting)")


@PROBES.register("progress")
@torch.no_grad()
def progress(model: nn.Module, data, cfg) -> dict[str, float]:
    """n_key_freqs; key_freq_<k> = 1 for each key frequency k; restricted_loss; excluded_loss (all key
    frequencies removed) and excluded_loss_k<k> (one removed); gini_embed, gini_neuron_logits; weight_sq and
    weight_sq_<parameter> (sums of squared weights)."""
    check_applicable(model, cfg)
    p = cfg.task.p
    inputs, labels = addition_inputs(p)
    inputs = inputs.to(data.train_x.device)
    captured = {}
    hook = model.blocks[0].mlp[1].register_forward_hook(lambda m, i, o: captured.update(acts=o))
    was_training = model.training
    model.eval()
    try:
        logits = model(inputs)[:, :p].cpu()
    finally:
        hook.remove()
        model.train(was_training)
    activations = captured["acts"].reshape(p * p, -1).cpu()
    keys = key_frequencies(activations, p)
    train_rows = (data.train_x[:, 0] * p + data.train_x[:, 1]).cpu()
    directions = sum_directions(p, keys)
    values = {"n_key_freqs": float(len(keys)), "restricted_loss": restricted_loss(logits, labels, directions),
              "excluded_loss": excluded_loss(logits, labels, directions, train_rows)}
    for i, k in enumerate(keys):
        values[f"key_freq_{k}"] = 1.0
        values[f"excluded_loss_k{k}"] = excluded_loss(logits, labels, directions[:, 2 * i : 2 * i + 2], train_rows)
    embed = model.embed.weight[:p].cpu()
    neuron_logits = (model.unembed.weight[:p] @ model.blocks[0].mlp[2].weight).cpu()  # [p, d_mlp]
    values["gini_embed"] = gini(frequency_norms(embed, p))
    values["gini_neuron_logits"] = gini(frequency_norms(neuron_logits, p))
    squares = {name: float(param.double().pow(2).sum()) for name, param in model.named_parameters()}
    values["weight_sq"] = sum(squares.values())
    values.update({f"weight_sq_{name.replace('.', '_')}": value for name, value in squares.items()})
    return values
