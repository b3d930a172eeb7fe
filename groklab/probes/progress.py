"""Nanda et al. 2023's progress measures for a 1-layer transformer or a one-hidden-layer MLP on (a + b) mod p.

Definitions follow mechanistic-interpretability-grokking/progress-measures-paper (transformers.py):
- the Fourier basis of Z_p: the constant, then cos and sin of 2 pi k x / p for k = 1..(p-1)/2, normalized;
- key frequencies: the MLP activations at the answer position over all p^2 inputs, centred per neuron and
  transformed in both operands; each neuron's frequency is the k whose {1, cos k, sin k}^2 block holds most of
  its variance; the key frequencies are the frequencies of all neurons that fire (the code's np.unique over
  neurons; eval.key_frequency_rule=share keeps only neurons whose frequency holds at least KEY_SHARE). The
  code searches k in range(1, p//2), leaving out (p-1)/2; groklab searches all of 1..(p-1)/2. For a
  one-hidden-layer MLP on one-hots, the neurons' input weights take the place of their activations and the
  share rule applies (Gromov 2023; Doshi et al. 2024);
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

from groklab.analysis.events import first_step_at
from groklab.analysis.progress import progress_phases
from groklab.probes.base import Panel, Probe, register

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


def input_weight_frequencies(w_a: torch.Tensor, w_b: torch.Tensor, p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first layer's weights from each operand's one-hot, [p, neurons] each -> (each neuron's frequency
    1..(p-1)/2, the share of its non-constant weight power that frequency holds). The MLP counterpart of
    neuron_frequencies (Gromov 2023; Doshi et al. 2024 read a neuron's frequency off its input weights: the
    activation spectrum of a quadratic neuron spreads over k and 2k)."""
    basis = fourier_basis(p)
    power = (basis @ w_a.double()).pow(2) + (basis @ w_b.double()).pow(2)  # [p, neurons]
    per_frequency = torch.stack([power[2 * k - 1] + power[2 * k] for k in range(1, (p - 1) // 2 + 1)])
    best_share, best = (per_frequency / per_frequency.sum(0).clamp_min(1e-30)).max(dim=0)
    return best + 1, best_share


def key_frequencies(activations: torch.Tensor, p: int, rule: str = "best_per_neuron") -> list[int]:
    """Sorted key frequencies of activations [p*p, neurons]: every firing neuron's best frequency
    (best_per_neuron), or those of the neurons one frequency explains at least KEY_SHARE of (share)."""
    frequency, explained = neuron_frequencies(activations, p)
    return frequencies_above(frequency, explained, KEY_SHARE if rule == "share" else 0.0)


def frequencies_above(frequency: torch.Tensor, explained: torch.Tensor, share: float = KEY_SHARE) -> list[int]:
    """The distinct frequencies of the neurons whose best frequency explains at least `share` of them (more
    than nothing when `share` is 0: a neuron that never varies has no frequency)."""
    return sorted({int(k) for k in frequency[(explained >= share) & (explained > 0)]})


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


def addition_inputs(p: int, with_equals: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Every [a, b, =] (or [a, b]) sequence in a-major order and its answer (a + b) mod p."""
    a, b = torch.arange(p).repeat_interleave(p), torch.arange(p).repeat(p)
    columns = [a, b, torch.full_like(a, p)] if with_equals else [a, b]
    return torch.stack(columns, dim=1), (a + b) % p


def is_one_hidden_layer_mlp(cfg) -> bool:
    return cfg.model.name == "mlp" and cfg.model.depth == 2 and cfg.task.format == "x_y"


def circuit_parts(model: nn.Module, cfg) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """(the module whose output is the neuron activations, the [p, d] embedding of the first operand, the
    [p, neurons] neuron-logit map) of a 1-layer transformer (embedding; W_U W_out) or of a one-hidden-layer
    MLP on concatenated one-hots (the first layer's columns for the first operand; the output layer)."""
    task, p = cfg.task, cfg.task.p
    if task.name != "modular" or task.operation != "x+y":
        raise ValueError("eval.probes progress measures modular addition: it needs task.operation=x+y")
    if cfg.model.name == "transformer" and cfg.model.n_layers == 1 and task.format == "x_y_eq":
        mlp = model.blocks[0].mlp
        return mlp[1], model.embed.weight[:p], model.unembed.weight[:p] @ mlp[2].weight
    if is_one_hidden_layer_mlp(cfg):
        return model.net[1], model.net[0].weight[:, :p].T, model.net[2].weight[:p]
    raise ValueError("eval.probes progress measures a 1-layer transformer on task.format=x_y_eq or a "
                     "one-hidden-layer MLP (model.depth=2) on task.format=x_y (Nanda et al. 2023's settings)")


@torch.no_grad()
def progress(model: nn.Module, data, cfg) -> dict[str, float]:
    """n_key_freqs; key_freq_<k> = 1 for each key frequency k; restricted_loss; excluded_loss (all key
    frequencies removed) and excluded_loss_k<k> (one removed); gini_embed, gini_neuron_logits; weight_sq and
    weight_sq_<parameter> (sums of squared weights)."""
    neurons, embed, neuron_logits = circuit_parts(model, cfg)
    p = cfg.task.p
    inputs, labels = addition_inputs(p, with_equals=cfg.task.format == "x_y_eq")
    inputs = inputs.to(data.train_x.device)
    captured = {}
    hook = neurons.register_forward_hook(lambda m, i, o: captured.update(acts=o))
    was_training = model.training
    model.eval()
    try:
        logits = model(inputs)[:, :p].cpu()
    finally:
        hook.remove()
        model.train(was_training)
    if is_one_hidden_layer_mlp(cfg):
        first = model.net[0].weight.cpu()
        keys = frequencies_above(*input_weight_frequencies(first[:, :p].T, first[:, p : 2 * p].T, p))
    else:
        keys = key_frequencies(captured["acts"].reshape(p * p, -1).cpu(), p, cfg.eval.key_frequency_rule)
    train_rows = (data.train_x[:, 0] * p + data.train_x[:, 1]).cpu()
    directions = sum_directions(p, keys)
    values = {"n_key_freqs": float(len(keys)), "restricted_loss": restricted_loss(logits, labels, directions),
              "excluded_loss": excluded_loss(logits, labels, directions, train_rows)}
    for i, k in enumerate(keys):
        values[f"key_freq_{k}"] = 1.0
        values[f"excluded_loss_k{k}"] = excluded_loss(logits, labels, directions[:, 2 * i : 2 * i + 2], train_rows)
    values["gini_embed"] = gini(frequency_norms(embed.cpu(), p))
    values["gini_neuron_logits"] = gini(frequency_norms(neuron_logits.cpu(), p))
    squares = {name: float(param.double().pow(2).sum()) for name, param in model.named_parameters()}
    values["weight_sq"] = sum(squares.values())
    values.update({f"weight_sq_{name.replace('.', '_')}": value for name, value in squares.items()})
    return values


def progress_unsupported(cfg) -> str | None:
    task, model = cfg.task, cfg.model
    if task.name == "modular" and task.operation == "x+y" and (
            (model.name == "transformer" and model.n_layers == 1 and task.format == "x_y_eq")
            or is_one_hidden_layer_mlp(cfg)):
        return None
    return ("eval.probes progress (Nanda et al.'s measures) needs task.operation=x+y and a 1-layer transformer "
            "(model.n_layers=1) on task.format=x_y_eq, or a one-hidden-layer MLP (model.depth=2) on task.format=x_y")


def progress_facts(cfg, history) -> dict:
    """The final key frequencies and Nanda et al.'s three phases (memorization, circuit formation, cleanup)."""
    if not history.has("restricted_loss"):
        return {}
    measured = [r for r in history.records if "restricted_loss" in r]
    memorized = first_step_at(history.steps, history.column("train_acc"), cfg.analysis.memorization_threshold)
    return {"key_freqs": sorted(int(k.removeprefix("key_freq_")) for k in measured[-1] if k.startswith("key_freq_")),
            **progress_phases(history.steps, memorized, history.column("test_loss"),
                              history.column("restricted_loss"), history.column("excluded_loss"),
                              history.column("weight_sq"))}


register(Probe(
    "progress", progress, unsupported=progress_unsupported, facts=progress_facts,
    panels=(Panel("restricted and excluded loss (Nanda)", (("restricted_loss", "restricted"), ("excluded_loss",
                  "excluded"), ("train_loss", "train"), ("test_loss", "test")), log=True),
            Panel("Gini of Fourier norms", (("gini_embed", "embedding"), ("gini_neuron_logits", "neuron-logit map"))),
            Panel("total squared weights", (("weight_sq", ""),), log=True)),
))
