"""Geometry that every model has, so that all presets can be compared on the same axes: the representation the
output layer reads (the answer position's residual stream in a transformer, the last hidden layer of an MLP), how
far it moved since the previous evaluation, the logits it produces, the norm of each weight matrix, and for
modular arithmetic the Fourier sparsity of the operand embedding. Definitions in docs/analysis.md."""

from __future__ import annotations

from weakref import WeakKeyDictionary

import torch
from torch import nn

from groklab.probes.base import Panel, Probe, register
from groklab.probes.embedding import embedding_of, spectral_rank
from groklab.probes.fourier import group_order
from groklab.probes.geometry import hidden_linears, input_space_complexity
from groklab.probes.norms import output_layer

SAMPLE = 512  # the first inputs of each split: a fixed sample, the same at every evaluation
LOWER_QUANTILE = 0.1


def centred_spectrum(features: torch.Tensor) -> torch.Tensor:
    """Singular values of the centred [n, d] features, in float64: the square roots of the eigenvalues of the
    smaller of the two Gram matrices (faster than an SVD), with rounding noise below 1e-12 of the largest set
    to 0."""
    centred = features.double() - features.double().mean(0)
    gram = centred.T @ centred if centred.shape[0] >= centred.shape[1] else centred @ centred.T
    eigenvalues = torch.linalg.eigvalsh(gram).flip(0)
    eigenvalues[eigenvalues <= 1e-12 * eigenvalues[0].clamp_min(0)] = 0.0
    return eigenvalues.sqrt()


def centred_rank(features: torch.Tensor) -> float:
    """The effective rank (exp of the entropy of the normalized singular values) of the centred [n, d] features:
    k for a representation spanning k directions with equal spread, 1 for a line, 0 for a single point."""
    return rank_of_spectrum(centred_spectrum(features))


def participation_ratio(features: torch.Tensor) -> float:
    """(sum of the covariance's eigenvalues)^2 / (sum of their squares): k for k directions of equal variance,
    weighted towards the largest ones more than the effective rank is."""
    return participation_of_spectrum(centred_spectrum(features))


def rank_of_spectrum(spectrum: torch.Tensor) -> float:
    """centred_rank from the features' centred_spectrum."""
    return spectral_rank(spectrum) if spectrum.any() else 0.0


def participation_of_spectrum(spectrum: torch.Tensor) -> float:
    """participation_ratio from the features' centred_spectrum."""
    variances = spectrum**2
    total = variances.sum()
    return float(total**2 / (variances**2).sum()) if total > 0 else 0.0


def linear_cka(x: torch.Tensor, y: torch.Tensor,
               spectra: tuple[torch.Tensor, torch.Tensor] | None = None) -> float:
    """Linear centred kernel alignment of two representations of the same n inputs ([n, d1], [n, d2]; Kornblith
    et al. 2019): 1 for representations equal up to rotation, isotropic scaling and offset, near 0 for unrelated
    ones. NaN when either is a single point. `spectra`: their centred_spectrum, when already computed."""
    sx, sy = spectra if spectra is not None else (centred_spectrum(x), centred_spectrum(y))
    x, y = x.double() - x.double().mean(0), y.double() - y.double().mean(0)
    scale = sx.pow(4).sum().sqrt() * sy.pow(4).sum().sqrt()  # ||X^T X||_F ||Y^T Y||_F
    return float((y.T @ x).square().sum() / scale) if scale > 0 else float("nan")


MULTIPLICATIVE = ("x*y", "x/y")  # cyclic in the discrete logarithm of their nonzero operands


def fourier_power(rows: torch.Tensor, operation: str) -> torch.Tensor:
    """Power of the operand embedding rows ([p, d], row r = residue r) at each non-constant frequency of the
    group the operation lives in, summed over the embedding's columns: Z_p for additive operations, the
    multiplicative group Z_{p-1} (rows reordered by discrete logarithm, zero left out) for x*y and x/y."""
    p = rows.shape[0]
    order = group_order(p, "x*y") if operation in MULTIPLICATIVE else torch.arange(p)
    cyclic = rows[order].double()
    spectrum = torch.fft.rfft(cyclic - cyclic.mean(0), dim=0)
    return spectrum[1:].abs().square().sum(1)


def gini(values: torch.Tensor) -> float:
    """Gini coefficient of non-negative values: 0 when all are equal, 1 - 1/n when one holds everything."""
    ordered = values.double().sort().values
    n, total = len(ordered), ordered.sum()
    if total <= 0:
        return 0.0
    ranks = torch.arange(1, n + 1, dtype=torch.float64)
    return float(((2 * ranks - n - 1) * ordered).sum() / (n * total))


def sparsity(power: torch.Tensor, top: int = 3) -> dict[str, float]:
    """Gini coefficient of a power spectrum and the share of its `top` strongest frequencies."""
    share = power.sort(descending=True).values[:top].sum() / power.sum().clamp_min(1e-300)
    return {"embed_fourier_gini": gini(power), f"embed_fourier_top{top}_share": float(share)}


# per model object, the (features, centred spectrum) of each split at its previous probe evaluation
_previous: WeakKeyDictionary[nn.Module, dict[str, tuple[torch.Tensor, torch.Tensor]]] = WeakKeyDictionary()


def margins(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per sample, the target's logit minus the largest other logit (positive: classified correctly)."""
    target = logits.gather(1, targets[:, None]).squeeze(1)
    others = logits.scatter(1, targets[:, None], float("-inf"))
    return target - others.max(1).values


def classifies(cfg) -> bool:
    """Whether the model's outputs are per-class scores (margins are then defined)."""
    return cfg.train.loss != "template_mse"


def hidden_layers(model: nn.Module) -> list[nn.Linear]:
    """The Linear layers that read an MLP's hidden layers before the last one (the hidden_linears after the
    first); none for a transformer, whose measured representation is the answer position's residual stream."""
    from groklab.models.transformer import Transformer

    return [] if isinstance(model, Transformer) else hidden_linears(model)[1:]


def features_and_logits(model: nn.Module, x: torch.Tensor, layers: list[nn.Linear] = ()
                        ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """On the first SAMPLE rows of `x`: the output layer's input ([n, d], float32), the logits, and the inputs
    of `layers` (float32)."""
    watched = [*layers, output_layer(model)]
    inputs: dict[nn.Module, torch.Tensor] = {}
    hooks = [layer.register_forward_hook(lambda m, args, _out: inputs.__setitem__(m, args[0])) for layer in watched]
    try:
        logits = model(x[:SAMPLE]).float()
    finally:
        for hook in hooks:
            hook.remove()
    flat = [inputs[layer].reshape(-1, inputs[layer].shape[-1]).float() for layer in watched]
    return flat[-1], logits, flat[:-1]


@torch.no_grad()
def representation(model: nn.Module, data, cfg) -> dict[str, float]:
    """Effective rank and participation ratio of the output layer's input (and of an MLP's earlier hidden layers,
    as rep_effective_rank/hidden<i>_<split>), its linear CKA with the previous evaluation's (same model object,
    same inputs), logit norm and margins (mean and lower decile) on the first SAMPLE training and test inputs,
    the local complexity in the model's input space around the first of them (summed over hidden layers, and
    per layer); the norm of every weight matrix and their total; for modular arithmetic with a token embedding,
    the Fourier sparsity of its operand rows."""
    values: dict[str, float] = {}
    previous, current = _previous.get(model, {}), {}
    layers = hidden_layers(model)
    for split, x, y in (("train", data.train_x, data.train_y), ("test", data.test_x, data.test_y)):
        features, logits, hidden = features_and_logits(model, x, layers)
        for i, layer_features in enumerate(hidden, start=1):
            layer_spectrum = centred_spectrum(layer_features)
            values[f"rep_effective_rank/hidden{i}_{split}"] = rank_of_spectrum(layer_spectrum)
            values[f"rep_participation_ratio/hidden{i}_{split}"] = participation_of_spectrum(layer_spectrum)
        unchanged = split in previous and torch.equal(previous[split][0], features)
        spectrum = previous[split][1] if unchanged else centred_spectrum(features)  # a linear model's input
        values[f"rep_effective_rank_{split}"] = rank_of_spectrum(spectrum)
        values[f"rep_participation_ratio_{split}"] = participation_of_spectrum(spectrum)
        current[split] = (features, spectrum)
        if split in previous:
            before, before_spectrum = previous[split]
            values[f"rep_cka_previous_{split}"] = 1.0 if unchanged else \
                linear_cka(before, features, (before_spectrum, spectrum))
        values[f"logit_norm_{split}"] = float(logits.norm(dim=-1).mean())
        crossings = input_space_complexity(model, x, cfg.seed)
        if crossings is not None:
            values[f"rep_local_complexity_{split}"] = sum(crossings)
            values |= {f"rep_local_complexity/layer{i}_{split}": n for i, n in enumerate(crossings, start=1)}
        if y.dim() == 1 and not y.is_floating_point() and classifies(cfg):
            margin = margins(logits, y[:SAMPLE])
            values[f"logit_margin_{split}"] = float(margin.mean())
            values[f"logit_margin_q10_{split}"] = float(torch.quantile(margin, LOWER_QUANTILE))
    _previous[model] = current
    matrices = {name: float(param.norm()) for name, param in model.named_parameters() if param.dim() >= 2}
    values |= {f"weight_norm/{name}": norm for name, norm in matrices.items()}
    values["weight_norm_total"] = float(sum(n**2 for n in matrices.values()) ** 0.5)
    embedding = embedding_of(dict(model.named_parameters()))
    if cfg.task.name == "modular" and embedding is not None:
        values |= sparsity(fourier_power(embedding[: cfg.task.p], cfg.task.operation))
    return values


register(Probe("representation", representation, panels=(
    Panel("representation: effective rank", (("rep_effective_rank_train", "train"),
                                             ("rep_effective_rank_test", "test"))),
    Panel("representation: participation ratio", (("rep_participation_ratio_train", "train"),
                                                  ("rep_participation_ratio_test", "test"))),
    Panel("MLP hidden layers: effective rank", (("rep_effective_rank/*", ""),)),
    Panel("local complexity in the input space", (("rep_local_complexity_train", "train"),
                                                  ("rep_local_complexity_test", "test"))),
    Panel("representation: CKA with the previous evaluation", (("rep_cka_previous_train", "train"),
                                                              ("rep_cka_previous_test", "test"))),
    Panel("embedding: Fourier sparsity", (("embed_fourier_gini", "Gini"), ("embed_fourier_top3_share", "top-3 share"))),
    Panel("logit margin (mean, lower decile)", (("logit_margin_train", "train"), ("logit_margin_test", "test"),
                                                ("logit_margin_q10_train", "train, 10%"),
                                                ("logit_margin_q10_test", "test, 10%"))),
    Panel("logit norm", (("logit_norm_train", "train"), ("logit_norm_test", "test")), log=True),
    Panel("weight norm per layer and in total", (("weight_norm/*", ""), ("weight_norm_total", "total")), log=True),
)))
