"""What happens to the gradients between backward() and the optimizer step.

In order: Grokfast's slow-gradient amplification (Lee et al. 2024, `optim.grad_filter`), the projection
orthogonal to the weights (Prieto et al. 2025's ⊥Grad, `optim.orthogonal`) and gradient-norm clipping
(`optim.grad_clip`). Every operation works on one model's parameters or on parameters stacked on a leading
seed axis (batched seeds), where norms and projections are taken per seed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import torch

from groklab.config.schema import OptimCfg

NamedParams = list[tuple[str, torch.nn.Parameter]]
TINY = 1e-30  # the ⊥Grad reference code's guard against dividing by a zero norm


def _per_seed(tensor: torch.Tensor, stacked: bool) -> torch.Tensor:
    """`tensor` as rows: one per seed when stacked, else a single row."""
    return tensor.flatten(1) if stacked else tensor.reshape(1, -1)


class GradientPipeline:
    """The configured gradient filter, ⊥Grad and clipping, with the filter's memory (saved in checkpoints)."""

    def __init__(self, cfg: OptimCfg, stacked: bool = False) -> None:
        self.cfg, self.stacked = cfg, stacked
        self.active = cfg.grad_filter != "none" or cfg.orthogonal or cfg.grad_clip is not None
        self.ema: dict[str, torch.Tensor] = {}  # Grokfast-EMA: the running average h of each gradient
        self.window: dict[str, deque[torch.Tensor]] = {}  # Grokfast-MA: the last `window` gradients
        self.window_sum: dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def apply(self, named_params: Iterable[tuple[str, torch.nn.Parameter]]) -> None:
        """Transform the parameters' .grad in place (nothing to do, and no per-step work, when none is set)."""
        if not self.active:
            return
        params = [(name, p) for name, p in named_params if p.grad is not None]
        if self.cfg.grad_filter == "ema":
            self._filter_ema(params)
        elif self.cfg.grad_filter == "ma":
            self._filter_ma(params)
        if self.cfg.orthogonal:
            for _, p in params:
                self._orthogonalize(p)
        if self.cfg.grad_clip is not None:
            self._clip([p.grad for _, p in params], self.cfg.grad_clip)

    def _filter_ema(self, params: NamedParams) -> None:
        """h <- alpha h + (1 - alpha) g (h starts at the first gradient); g <- g + lambda h."""
        alpha, lamb = self.cfg.grad_filter_alpha, self.cfg.filter_lambda
        for name, p in params:
            average = self.ema.get(name)
            if average is None:
                self.ema[name] = average = p.grad.clone()
            else:
                average.mul_(alpha).add_(p.grad, alpha=1 - alpha)
            p.grad.add_(average, alpha=lamb)

    def _filter_ma(self, params: NamedParams) -> None:
        """Once `window` gradients are stored: g <- g + lambda * (their mean, this step's included)."""
        size, lamb = self.cfg.grad_filter_window, self.cfg.filter_lambda
        for name, p in params:
            stored = self.window.setdefault(name, deque())
            stored.append(p.grad.clone())
            total = self.window_sum.get(name)
            self.window_sum[name] = total = p.grad.clone() if total is None else total.add_(p.grad)
            if len(stored) > size:
                total.sub_(stored.popleft())
            if len(stored) == size:
                p.grad.add_(total, alpha=lamb / size)

    def _orthogonalize(self, p: torch.nn.Parameter) -> None:
        """g <- g minus its component along w, rescaled to the norm g had (per tensor, per seed)."""
        w, g = _per_seed(p.detach(), self.stacked), _per_seed(p.grad, self.stacked)
        along = (w * g).sum(1, keepdim=True) / ((w * w).sum(1, keepdim=True) + TINY)
        orthogonal = g - along * w
        orthogonal.mul_(g.norm(dim=1, keepdim=True) / (orthogonal.norm(dim=1, keepdim=True) + TINY))
        p.grad.copy_(orthogonal.view_as(p.grad))

    def _clip(self, grads: list[torch.Tensor], max_norm: float) -> None:
        """torch.nn.utils.clip_grad_norm_ over all gradients together (per seed when stacked)."""
        norms = torch.stack([_per_seed(g, self.stacked).pow(2).sum(1) for g in grads]).sum(0).sqrt()
        factor = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(factor.view(-1, *[1] * (g.dim() - 1)) if self.stacked else factor)

    def state_dict(self, seed: int | None = None) -> dict:
        """The filter's memory (of one seed's slice when stacked and `seed` is given)."""
        def pick(t: torch.Tensor) -> torch.Tensor:
            return t if seed is None else t[seed]
        return {"ema": {n: pick(t) for n, t in self.ema.items()},
                "window": {n: [pick(t) for t in grads] for n, grads in self.window.items()},
                "window_sum": {n: pick(t) for n, t in self.window_sum.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.ema = {n: t.clone() for n, t in state.get("ema", {}).items()}
        self.window = {n: deque(t.clone() for t in grads) for n, grads in state.get("window", {}).items()}
        self.window_sum = {n: t.clone() for n, t in state.get("window_sum", {}).items()}
