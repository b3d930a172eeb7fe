"""Local complexity (Humayun, Balestriero, Baraniuk 2024): how many ReLU/GELU neurons change sign in a small
neighbourhood of a point, i.e. how densely the network's linear-region boundaries pass near it. For models that
read tokens, the neighbourhood lies in the continuous space their first layer reads (`input_space`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
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
    return boundary_crossings(model, hidden_linears(model), neighbourhood(anchors, radius, directions))


@torch.no_grad()
def boundary_crossings(forward: Callable[[torch.Tensor], object], layers: list[nn.Module], vertices: torch.Tensor,
                       positions: torch.Tensor | None = None) -> list[float]:
    """Per layer of `layers` (whose outputs are pre-activations), the mean over anchors of the number of neurons
    whose sign is not the same at every vertex. `vertices` [n, v, D] go through `forward` as [n * v, D]; for
    sequence outputs [n * v, T, width], `positions` [n] says which position of each anchor's sequence counts (an
    output of one position, [n * v, 1, width], is that position)."""
    n, v, d = vertices.shape
    signs: list[torch.Tensor] = []
    hooks = [layer.register_forward_hook(lambda _m, _i, out: signs.append(out > 0)) for layer in layers]
    try:
        forward(vertices.reshape(n * v, d))
    finally:
        for hook in hooks:
            hook.remove()
    counts = []
    for s in signs:
        if s.dim() == 3:
            s = s[:, 0] if s.shape[1] == 1 else s[torch.arange(n * v, device=s.device), positions.repeat_interleave(v)]
        s = s.reshape(n, v, -1)
        counts.append(float((s != s[:, :1]).any(1).sum(-1).double().mean()))
    return counts


@dataclass
class InputSpace:
    """The continuous space a model's first layer reads, for neighbourhoods around token inputs: `anchors(x)`
    maps inputs to points [n, D], `forward` runs points far enough for `layers` (Linear layers whose outputs are
    hidden pre-activations) to fire, `positions(x)` gives each input's scored position for sequence models."""

    anchors: Callable[[torch.Tensor], torch.Tensor]
    forward: Callable[[torch.Tensor], object]
    layers: list[nn.Module]
    positions: Callable[[torch.Tensor], torch.Tensor] | None = None


def input_space(model: nn.Module) -> InputSpace | None:
    """Where local complexity is measured for each model kind: an MLP's input (one-hot tokens concatenated, or
    real values), the summed token embedding of token_sum_mlp and repr_mlp, a transformer's input embeddings
    (token plus position, all positions concatenated) with its MLP neurons at the scored position. None for
    models without hidden neurons (linear)."""
    from groklab.models.mlp import MLP
    from groklab.models.repr_mlp import ReprMLP
    from groklab.models.token_sum_mlp import TokenSumMLP
    from groklab.models.transformer import Transformer

    if isinstance(model, MLP):
        def one_hot(x: torch.Tensor) -> torch.Tensor:
            return x.float() if x.is_floating_point() else F.one_hot(x, model.vocab_size).flatten(1).float()
        return InputSpace(one_hot, model.net, hidden_linears(model.net))
    if isinstance(model, TokenSumMLP):
        return InputSpace(lambda x: model.embed(x).sum(1), model.inproj, [model.inproj])
    if isinstance(model, ReprMLP):
        return InputSpace(lambda x: model.embed[x].sum(1), model.decoder, hidden_linears(model.decoder))
    if isinstance(model, Transformer):
        return transformer_input_space(model)
    return None


def transformer_input_space(model: nn.Module) -> InputSpace:
    """A transformer from its summed token and position embeddings [n, T * d] through its blocks, counting the
    first MLP layer's neurons at the scored position (the last, or the last non-pad). Without padding the last
    block computes only the last position, as the model's own forward does."""
    d, last = model.embed.embedding_dim, len(model.blocks) - 1

    def anchors(x: torch.Tensor) -> torch.Tensor:
        return (model.embed(x) + model.pos[: x.shape[1]]).flatten(1)

    def forward(points: torch.Tensor) -> torch.Tensor:
        h = points.view(len(points), -1, d)
        for i, block in enumerate(model.blocks):
            h = block(h, h.shape[1] - 1 if i == last and model.pad_token is None else 0)
        return h

    def positions(x: torch.Tensor) -> torch.Tensor:
        if model.pad_token is None:
            return torch.full((len(x),), x.shape[1] - 1, device=x.device)
        return (x != model.pad_token).sum(1) - 1

    return InputSpace(anchors, forward, [block.mlp[0] for block in model.blocks], positions)


LC_ANCHORS, LC_DIRECTIONS, LC_RADIUS_SHARE = 16, 4, 0.1  # 128 points a split: a transformer forward of 512 rows


@torch.no_grad()
def input_space_complexity(model: nn.Module, x: torch.Tensor, seed: int) -> list[float] | None:
    """Local complexity per hidden layer around the first LC_ANCHORS inputs `x`, in the model's input space
    (`input_space`): a cross-polytope of LC_DIRECTIONS fixed random directions, its radius LC_RADIUS_SHARE of the
    anchors' mean norm (so it follows the embedding's scale through training). None without hidden neurons."""
    space = input_space(model)
    if space is None or not space.layers:
        return None
    x = x[:LC_ANCHORS]
    anchors = space.anchors(x).to(next(model.parameters()).dtype)
    directions = random_directions(anchors.shape[1], min(LC_DIRECTIONS, anchors.shape[1]), seed).to(anchors)
    radius = LC_RADIUS_SHARE * float(anchors.norm(dim=1).mean())
    positions = space.positions(x) if space.positions else None
    return boundary_crossings(space.forward, space.layers, neighbourhood(anchors, radius, directions), positions)


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
