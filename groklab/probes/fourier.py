"""Fourier structure of one-hidden-layer MLPs on modular arithmetic (Gromov 2023; Doshi et al. 2024).

Addition is diagonalized by the Fourier basis of Z_p; multiplication by the Fourier basis of the
multiplicative group Z_{p-1}, reached by relabelling each nonzero number by its discrete logarithm.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from groklab.common.checkpoint import load_latest
from groklab.common.run_folder import CHECKPOINTS_DIR
from groklab.probes.base import Panel, Probe, register


def primitive_root(p: int) -> int:
    """The smallest generator of the multiplicative group mod the prime p."""
    factors = {d for d in range(2, p) if (p - 1) % d == 0 and all(d % e for e in range(2, math.isqrt(d) + 1))}
    return next(g for g in range(2, p) if all(pow(g, (p - 1) // f, p) != 1 for f in factors)) if p > 2 else 1


def group_order(p: int, operation: str) -> torch.Tensor:
    """Numbers in the order that makes the operation cyclic: 0..p-1 for addition, g^0..g^(p-2) for
    multiplication (zero has no logarithm and is left out)."""
    if operation == "x*y":
        g = primitive_root(p)
        return torch.tensor([pow(g, i, p) for i in range(p - 1)])
    return torch.arange(p)


def neuron_spectra(first_layer: torch.Tensor, p: int, n_terms: int, operation: str) -> torch.Tensor:
    """Power of each hidden neuron's input weights at frequencies 1..m//2 (m the group size), summed over
    operands: [neurons, m//2]. The constant (frequency 0) part is left out."""
    return operand_spectra(first_layer, p, n_terms, operation).sum(1)


def operand_spectra(first_layer: torch.Tensor, p: int, n_terms: int, operation: str) -> torch.Tensor:
    """Each hidden neuron's input-weight power per operand at frequencies 1..m//2: [neurons, terms, m//2]."""
    order = group_order(p, operation)
    return power_spectra(first_layer.reshape(first_layer.shape[0], n_terms, p)[:, :, order])


def power_spectra(rows: torch.Tensor) -> torch.Tensor:
    """Power of each row (numbers in group order, m of them) at frequencies 1..m//2: [..., m//2]."""
    return torch.fft.rfft(rows.double(), dim=-1).abs().pow(2)[..., 1 : rows.shape[-1] // 2 + 1]


def frequency_agreement(inputs: torch.Tensor, last_layer: torch.Tensor, p: int, operation: str) -> float:
    """Share of hidden neurons whose weights from every operand (`inputs`: their `operand_spectra`) and whose
    weights to the outputs (`last_layer`: [p, neurons]) all peak at one frequency, as every neuron of the
    analytic solution does."""
    outputs = power_spectra(last_layer[group_order(p, operation)].T).argmax(-1)  # [N]
    return (inputs.argmax(-1) == outputs[:, None]).all(1).double().mean().item()


def ipr(spectra: torch.Tensor) -> torch.Tensor:
    """Inverse participation ratio of each row's power spectrum: 1 for a single frequency, 1/K for K equal ones."""
    share = spectra / spectra.sum(-1, keepdim=True).clamp_min(1e-30)
    return share.pow(2).sum(-1)


def fourier_layer(model: nn.Module, cfg) -> torch.Tensor:
    """The first-layer weights of a one-hidden-layer MLP on operand-only tokens, checked."""
    net = getattr(model, "net", None)
    task = cfg.task
    if net is None or cfg.model.depth != 2 or task.name != "modular" or task.format != "x_y":
        raise ValueError("probe fourier needs model.name=mlp with model.depth=2 on task.name=modular with "
                         "task.format=x_y")
    return net[0].weight.detach()


@torch.no_grad()
def fourier(model: nn.Module, data, cfg) -> dict[str, float]:
    """neuron_ipr: mean IPR of the hidden neurons' spectra; neuron_peak_share: mean share of each neuron's
    power at its own dominant frequency; neuron_frequency_agreement: share of neurons whose input and output
    weights peak at the same frequency (`frequency_agreement`)."""
    task = cfg.task
    per_operand = operand_spectra(fourier_layer(model, cfg), task.p, task.n_terms, task.operation)
    spectra = per_operand.sum(1)  # neuron_spectra
    share = spectra / spectra.sum(-1, keepdim=True).clamp_min(1e-30)
    agreement = frequency_agreement(per_operand, model.net[-1].weight.detach(), task.p, task.operation)
    return {"neuron_ipr": ipr(spectra).mean().item(), "neuron_peak_share": share.max(-1).values.mean().item(),
            "neuron_frequency_agreement": agreement}


def analytic_solution(p: int, width: int, operation: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Gromov's closed-form weights for a quadratic-activation MLP on [x, y] one-hots: (W_in [width, 2p],
    W_out [p, width]). Neuron k has a frequency s_k and random phases f1, f2:
    W_in[k, x] = cos(2 pi s_k x / m + f1), W_in[k, p + y] = cos(2 pi s_k y / m + f2),
    W_out[q, k] = cos(2 pi s_k q / m + f1 + f2), where x, y, q are positions in group_order (m numbers).
    Squaring gives cos(2 pi s_k (x + y - q) / m), which adds up over neurons to a peak at q = x op y.
    For multiplication, one more neuron detects a zero operand and votes for 0."""
    order = group_order(p, operation)
    m = len(order)
    g = torch.Generator().manual_seed(seed)
    n_fourier = width - (1 if operation == "x*y" else 0)
    freqs = 1 + torch.arange(n_fourier) % (m // 2)
    phases = 2 * math.pi * torch.rand(n_fourier, 2, generator=g, dtype=torch.float64)
    angle = 2 * math.pi * freqs[:, None].double() * torch.arange(m).double()[None, :] / m  # [N, m]
    w_in = torch.zeros(width, 2 * p, dtype=torch.float64)
    w_out = torch.zeros(p, width, dtype=torch.float64)
    w_in[:n_fourier, order] = torch.cos(angle + phases[:, :1])
    w_in[:n_fourier, p + order] = torch.cos(angle + phases[:, 1:])
    w_out[order, :n_fourier] = torch.cos(angle + phases.sum(1, keepdim=True)).T
    if operation == "x*y":  # zero detector: (1[x=0] + 1[y=0])^2 >= 1 exactly when the product is 0
        w_in[-1, 0] = w_in[-1, p] = 1.0
        w_out[0, -1] = 10.0 * n_fourier
    return w_in, w_out


def analytic_accuracy(p: int, width: int, operation: str, seed: int = 0) -> float:
    """Accuracy of the analytic solution on the whole operation table (every x, y)."""
    w_in, w_out = analytic_solution(p, width, operation, seed)
    x, y = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    x, y = x.reshape(-1), y.reshape(-1)
    hidden = (w_in[:, x] + w_in[:, p + y]).pow(2)  # [N, p^2]
    prediction = (w_out @ hidden).argmax(0)
    target = (x + y) % p if operation == "x+y" else (x * y) % p
    return (prediction == target).double().mean().item()


def fourier_unsupported(cfg) -> str | None:
    task = cfg.task
    if (cfg.model.name == "mlp" and cfg.model.depth == 2 and task.name == "modular" and task.format == "x_y"
            and task.operation in ("x+y", "x*y")):
        return None
    return ("eval.probes fourier needs model.name=mlp, model.depth=2 and task.name=modular with task.format=x_y "
            "and operation x+y or x*y")


def fourier_facts(cfg, history) -> dict:
    """The trained neurons' Fourier structure at the end of the run (IPR, peak share, frequency agreement) and
    the IPR at its start."""
    if not history.has("neuron_ipr"):
        return {}
    last = history.records[-1]
    return {"final_neuron_ipr": last.get("neuron_ipr"), "final_neuron_peak_share": last.get("neuron_peak_share"),
            "final_neuron_frequency_agreement": last.get("neuron_frequency_agreement"),
            "initial_neuron_ipr": float(np.nan_to_num(history.column("neuron_ipr")[0]))}


def neuron_spectra_pair(cfg, run_dir: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(trained, analytic) power spectra of the hidden neurons, [neurons, frequencies] each, for a run with
    the fourier probe and a checkpoint; None otherwise."""
    if "fourier" not in cfg.eval.probes:
        return None
    checkpoint = load_latest(run_dir / CHECKPOINTS_DIR, torch.device("cpu"))
    if checkpoint is None:
        return None
    task = cfg.task
    trained = neuron_spectra(checkpoint["model"]["net.0.weight"], task.p, task.n_terms, task.operation)
    analytic = neuron_spectra(analytic_solution(task.p, cfg.model.width, task.operation)[0], task.p, 2,
                              task.operation)
    return trained.numpy(), analytic.numpy()


register(Probe(
    "fourier", fourier, unsupported=fourier_unsupported, facts=fourier_facts,
    panels=(Panel("mean neuron IPR", (("neuron_ipr", ""),)),
            Panel("power at each neuron's top frequency", (("neuron_peak_share", ""),)),
            Panel("neurons whose input and output frequencies agree", (("neuron_frequency_agreement", ""),))),
))
