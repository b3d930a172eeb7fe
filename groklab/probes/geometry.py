"""Local complexity (Humayun, Balestriero, Baraniuk 2024): how many ReLU/GELU neurons change sign in a small
neighbourhood of a point, i.e. how densely the network's linear-region boundaries pass near it."""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from groklab.analysis.robustness import complexity_phases
from groklab.common.seeding import generator
from groklab.probes.base import Panel, Probe, register


def hidden_linears(model: nn.Module) -> list[nn.Linear]:
    """The Linear layers followed by an activation (every Linear of an MLP but the output layer)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears[:-1]


def neighbourhood(anchors: torch.Tensor, radius: float, directions: torch.Tensor) -> torch.Tensor:
    """The cross-polytope around each anchor: x + r v_i and x - r v_i for orthonormal v_i; [n, 2k, d]."""
    offsets = radius * torch.cat([directions, -directions])  # [2k, d]
    return anchors[:, None, :] + offsets[None]


@torch.no_grad()
def local_complexity(model: nn.Module, anchors: torch.Tensor, radius: float, directions: torch.Tensor) -> list[float]:
    """Per hidden layer, the mean over anchors of the number of neurons whose pre-activation sign is not the
    same at every vertex of the anchor's neighbourhood."""
    vertices = neighbourhood(anchors, radius, directions)
    n, v, d = vertices.shape
    signs: list[torch.Tensor] = []
    hooks = [layer.register_forward_hook(lambda _m, _i, out: signs.append(out > 0)) for layer in hidden_linears(model)]
    try:
        model(vertices.reshape(n * v, d))
    finally:
        for hook in hooks:
            hook.remove()
    return [float((s.reshape(n, v, -1) != s.reshape(n, v, -1)[:, :1]).any(1).sum(-1).double().mean()) for s in signs]


@lru_cache(maxsize=8)
def random_directions(d: int, k: int, seed: int) -> torch.Tensor:
    """k orthonormal directions in R^d (rows), the same at every evaluation of a run (computed once)."""
    gaussian = torch.randn(d, k, generator=generator(seed, "lc-directions"))
    return torch.linalg.qr(gaussian).Q.T


def local_complexity_probe(model: nn.Module, data, cfg) -> dict[str, float]:
    """lc_train, lc_test, lc_random: local complexity around training images, test images and uniform noise,
    summed over hidden layers, and lc_<set>_layer<i> per hidden layer (1 = nearest the input)."""
    e = cfg.eval
    d = data.train_x.shape[1]
    directions = random_directions(d, min(e.lc_directions, d), cfg.seed).to(data.train_x.device)
    noise = torch.rand(e.lc_anchors, d, generator=generator(cfg.seed, "lc-random")).to(data.train_x.device)
    anchors = {"train": data.train_x[: e.lc_anchors], "test": data.test_x[: e.lc_anchors], "random": noise}
    values: dict[str, float] = {}
    for name, x in anchors.items():
        per_layer = local_complexity(model, x, e.lc_radius, directions)
        values[f"lc_{name}"] = sum(per_layer)
        values.update({f"lc_{name}_layer{i}": count for i, count in enumerate(per_layer, start=1)})
    return values


LC_RISE, LC_FALL = 0.1, 0.3  # local complexity 'rises then falls': +10% over its trough, then -30% from the peak


def needs_images_and_mlp(name: str):
    """The compatibility rule of probes that perturb real-valued inputs of an MLP."""
    def unsupported(cfg) -> str | None:
        if cfg.model.name == "mlp" and cfg.task.name == "mnist":
            return None
        return (f"eval.probes {name} needs real-valued inputs and an MLP: use it with task.name=mnist and "
                "model.name=mlp")
    return unsupported


def deepest_layer_series(history) -> str:
    """The local complexity near training points of the last hidden layer (where Humayun et al.'s ascent
    and descent are clearest), or the sum over layers for histories without per-layer columns."""
    layers = [name for name in history.records[-1] if name.startswith("lc_train_layer")]
    return max(layers, key=lambda name: int(name.removeprefix("lc_train_layer")), default="lc_train")


def complexity_facts(cfg, history) -> dict:
    """Where the local complexity of the deepest layer peaks, how much it rose and fell, and whether that is
    Humayun et al.'s rise and fall."""
    if not history.has("lc_train"):
        return {}
    series = deepest_layer_series(history)
    phases = complexity_phases(history.steps, history.column(series))
    return {"lc_series": series, **{f"lc_{k}": phases[k] for k in ("peak_step", "rise", "fall")},
            "lc_rise_and_fall": phases["rise"] >= LC_RISE and phases["fall"] >= LC_FALL}


register(Probe(
    "local_complexity", local_complexity_probe, unsupported=needs_images_and_mlp("local_complexity"),
    facts=complexity_facts,
    panels=(Panel("local complexity (neurons cut near a point)", (("lc_train", "train"), ("lc_test", "test"),
                                                                   ("lc_random", "random"))),
            Panel("local complexity near training points, per hidden layer", (("lc_train_layer*", "layer "),))),
))
