"""Adam, AdamW and SGD over parameters stacked on a leading member axis (batched seeds and sweep points).

Each member has its own learning rate and weight decay, per parameter group (the embedding group of
`optim.embedding_lr` / `optim.embedding_weight_decay` included); betas, eps and momentum are shared. The updates
are torch's (torch.optim.Adam, AdamW and SGD without dampening or Nesterov) written with the per-member
hyperparameters as broadcast tensors, so member i's parameters move as its own torch optimizer would move them,
to float rounding. `member_state(i)` gives member i's state in torch's own format, for its checkpoints.
"""

from __future__ import annotations

import torch

from groklab.config.schema import OptimCfg
from groklab.optim import parameter_groups

STACKABLE = ("adam", "adamw", "sgd")


def group_hyperparameters(model: torch.nn.Module, cfg: OptimCfg) -> dict[str, tuple[float, float]]:
    """{parameter name: (lr scale, weight decay)} as `cfg`'s parameter groups set them for `model`."""
    names = {id(p): name for name, p in model.named_parameters()}
    return {names[id(p)]: (group["lr_scale"], group.get("weight_decay", cfg.weight_decay))
            for group in parameter_groups(model, cfg) for p in group["params"]}


class StackedOptimizer:
    """One optimizer for N members' stacked parameters; `step(lrs)` takes each member's learning rate."""

    def __init__(self, params: dict[str, torch.nn.Parameter], cfg: OptimCfg,
                 hyperparameters: list[dict[str, tuple[float, float]]]) -> None:
        """`cfg`: the shared settings (name, betas, eps, momentum); `hyperparameters[i]`: member i's
        {parameter name: (lr scale, weight decay)} (group_hyperparameters of its own config)."""
        if cfg.name not in STACKABLE:
            raise ValueError(f"optimizer {cfg.name} cannot be stacked (only {', '.join(STACKABLE)})")
        self.params, self.cfg, self.steps, self.members = params, cfg, 0, len(hyperparameters)
        self.lr_scale = {name: self._per_member([h[name][0] for h in hyperparameters], p)
                         for name, p in params.items()}
        self.weight_decay = {name: self._per_member([h[name][1] for h in hyperparameters], p)
                             for name, p in params.items()}
        self.state: dict[str, dict[str, torch.Tensor]] = {name: {} for name in params}
        self.lrs: torch.Tensor | None = None  # this step's learning rate of each member, float64
        self.step_count: torch.Tensor | None = None  # the number of updates as a device tensor once capturable

    @staticmethod
    def _per_member(values: list[float], param: torch.Tensor) -> torch.Tensor:
        """Per-member values shaped to broadcast over a stacked parameter, in float64: scalars are combined in
        double precision and rounded once to the parameter's dtype, as torch's optimizers round their Python
        floats."""
        return torch.tensor(values, dtype=torch.float64, device=param.device).view(-1, *[1] * (param.dim() - 1))

    def zero_grad(self) -> None:
        for p in self.params.values():
            p.grad = None

    def step(self, lrs: list[float]) -> None:
        """One update; `lrs[i]`: member i's learning rate at this step (before its groups' lr scales)."""
        self.set_lrs(lrs)
        self.update()

    def set_lrs(self, lrs: list[float]) -> None:
        """The members' learning rates for the next update (copied into the same device tensor once
        capturable, so that a captured update reads them)."""
        values = torch.tensor(lrs, dtype=torch.float64)
        if self.step_count is None:
            self.lrs = values.to(next(iter(self.params.values())).device)
        else:
            self.lrs.copy_(values)

    def make_capturable(self) -> None:
        """Count updates on the device, as torch's capturable optimizers do, so that a CUDA graph replays the
        bias corrections of every step and not those of the step it captured."""
        device = next(iter(self.params.values())).device
        self.step_count = torch.tensor(float(self.steps), dtype=torch.float64, device=device)
        self.lrs = torch.zeros(self.members, dtype=torch.float64, device=device)

    @property
    def updates_done(self) -> int | torch.Tensor:
        """The number of updates so far: on the host, or in the device tensor a CUDA graph advances."""
        return self.steps if self.step_count is None else self.step_count

    @torch.no_grad()
    def update(self) -> None:
        """One update with the learning rates of the last set_lrs."""
        self.steps += 1
        if self.step_count is not None:
            self.step_count += 1
        for name, p in self.params.items():
            if p.grad is not None:
                member_lr = self.lrs.view(-1, *[1] * (p.dim() - 1)) * self.lr_scale[name]
                update = self._sgd if self.cfg.name == "sgd" else self._adam
                update(p, p.grad, self.state[name], member_lr, self.weight_decay[name])

    def _adam(self, p: torch.Tensor, grad: torch.Tensor, state: dict, lr: torch.Tensor, decay: torch.Tensor) -> None:
        beta1, beta2 = self.cfg.betas
        if self.cfg.name == "adamw":
            p.mul_((1 - lr * decay).to(p.dtype))
        else:
            grad = grad + decay.to(p.dtype) * p  # Adam's weight decay is an L2 term in the gradient
        if not state:
            state["exp_avg"], state["exp_avg_sq"] = torch.zeros_like(p), torch.zeros_like(p)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        correction1, correction2 = 1 - beta1**self.updates_done, 1 - beta2**self.updates_done
        denominator = (exp_avg_sq.sqrt() / correction2**0.5).add_(self.cfg.eps)
        p.sub_((lr / correction1).to(p.dtype) * exp_avg / denominator)

    def _sgd(self, p: torch.Tensor, grad: torch.Tensor, state: dict, lr: torch.Tensor, decay: torch.Tensor) -> None:
        grad = grad + decay.to(p.dtype) * p
        if self.cfg.momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.clone()
            else:
                state["momentum_buffer"].mul_(self.cfg.momentum).add_(grad)
            grad = state["momentum_buffer"]
        p.sub_(lr.to(p.dtype) * grad)

    def member_state(self, member: int) -> dict[str, dict[str, torch.Tensor]]:
        """Member `member`'s per-parameter state as its own torch optimizer holds it."""
        step = {} if self.cfg.name == "sgd" else {"step": torch.tensor(float(self.updates_done))}
        return {name: {**step, **{key: value[member].clone() for key, value in state.items()}}
                for name, state in self.state.items() if state}
