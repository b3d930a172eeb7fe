"""Adam, AdamW and SGD over parameters stacked on a leading member axis (batched seeds and sweep points).

Each member has its own learning rate and weight decay, per parameter group (the embedding group of
`optim.embedding_lr` / `optim.embedding_weight_decay` included); betas, eps and momentum are shared. The state is
stacked like the parameters, and every member's update is torch's own (torch.optim.adam.adam and
torch.optim.sgd.sgd, the functions behind torch.optim.Adam, AdamW and SGD) applied to its slices with its own
learning rate and weight decay, one call per member and parameter group. Adam runs torch's fused kernel where
the device has one (one pass over a member's parameters instead of a dozen: the stacked optimizer's cost on a
CPU), so member i moves as its own foreach optimizer would, to float rounding. `member_state(i)` gives member
i's state in torch's own format, for its checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.optim.adam import adam
from torch.optim.sgd import sgd
from torch.utils._foreach_utils import _get_fused_kernels_supported_devices

from groklab.config.schema import OptimCfg
from groklab.optim import parameter_groups

STACKABLE = ("adam", "adamw", "sgd")


def group_hyperparameters(model: torch.nn.Module, cfg: OptimCfg) -> dict[str, tuple[float, float]]:
    """{parameter name: (lr scale, weight decay)} as `cfg`'s parameter groups set them for `model`."""
    names = {id(p): name for name, p in model.named_parameters()}
    return {names[id(p)]: (group["lr_scale"], group.get("weight_decay", cfg.weight_decay))
            for group in parameter_groups(model, cfg) for p in group["params"]}


@dataclass(frozen=True)
class MemberGroup:
    """One member's parameters that share a learning-rate scale and a weight decay (a torch parameter group)."""

    lr_scale: float
    weight_decay: float
    names: tuple[str, ...]


def member_groups(hyperparameters: dict[str, tuple[float, float]]) -> list[MemberGroup]:
    """A member's {parameter name: (lr scale, weight decay)} as its parameter groups."""
    groups: dict[tuple[float, float], list[str]] = {}
    for name, key in hyperparameters.items():
        groups.setdefault(key, []).append(name)
    return [MemberGroup(scale, decay, tuple(names)) for (scale, decay), names in groups.items()]


class StackedOptimizer:
    """One optimizer for N members' stacked parameters; `step(lrs)` takes each member's learning rate."""

    def __init__(self, params: dict[str, torch.nn.Parameter], cfg: OptimCfg,
                 hyperparameters: list[dict[str, tuple[float, float]]]) -> None:
        """`cfg`: the shared settings (name, betas, eps, momentum); `hyperparameters[i]`: member i's
        {parameter name: (lr scale, weight decay)} (group_hyperparameters of its own config)."""
        if cfg.name not in STACKABLE:
            raise ValueError(f"optimizer {cfg.name} cannot be stacked (only {', '.join(STACKABLE)})")
        self.params, self.cfg, self.members = params, cfg, len(hyperparameters)
        self.groups = [member_groups(h) for h in hyperparameters]
        self.device = next(iter(params.values())).device
        self.fused = cfg.name != "sgd" and self.device.type in _get_fused_kernels_supported_devices()
        buffers = ("exp_avg", "exp_avg_sq") if cfg.name != "sgd" else ("momentum_buffer",) if cfg.momentum else ()
        self.state = {name: {key: torch.zeros_like(p) for key in buffers} for name, p in params.items()}
        # torch's per-parameter update counts (Adam's bias corrections), one float32 tensor per member and parameter
        # (on the parameters' device, where torch's fused and capturable updates count)
        self.step_counts = [{name: torch.zeros((), dtype=torch.float32, device=self.device) for name in params}
                            for _ in range(self.members)] if cfg.name != "sgd" else []
        # each member's views of the stacked parameters and state, made once (the stack's storage never moves)
        self.slices = [{name: {"param": p.detach()[member], **{key: value[member] for key, value in
                                                                self.state[name].items()}}
                        for name, p in params.items()} for member in range(self.members)]
        self.updated: set[str] = set()  # the parameters updated so far (torch holds state for these only)
        self.lrs: list[float] = [cfg.lr] * self.members  # this step's learning rate of each member
        self.lr_table: torch.Tensor | None = None  # [member, group] learning rates on the device once capturable

    def zero_grad(self) -> None:
        for p in self.params.values():
            p.grad = None

    def step(self, lrs: list[float]) -> None:
        """One update; `lrs[i]`: member i's learning rate at this step (before its groups' lr scales)."""
        self.set_lrs(lrs)
        self.update()

    def set_lrs(self, lrs: list[float]) -> None:
        """The members' learning rates for the next update (written into a device tensor once capturable, so that
        a captured update reads them)."""
        self.lrs = list(lrs)
        if self.lr_table is not None:
            rows = [[lr * group.lr_scale for group in groups] for lr, groups in zip(self.lrs, self.groups, strict=True)]
            width = self.lr_table.shape[1]
            self.lr_table.copy_(torch.tensor([row + [0.0] * (width - len(row)) for row in rows]))

    def make_capturable(self) -> None:
        """Keep the learning rates in a device tensor that set_lrs overwrites, so that a CUDA graph replays every
        step's learning rates and not those of the step it captured (the update counts are device tensors
        already)."""
        if self.cfg.name == "sgd":
            raise ValueError("SGD cannot be captured in a CUDA graph: torch takes its learning rate as a number")
        self.lr_table = torch.zeros(self.members, max(len(g) for g in self.groups), device=self.device)
        self.set_lrs(self.lrs)

    @torch.no_grad()
    def update(self) -> None:
        """One update with the learning rates of the last set_lrs."""
        graded = {name for name, p in self.params.items() if p.grad is not None}  # the same for every member
        self.updated |= graded
        for member, groups in enumerate(self.groups):
            for index, group in enumerate(groups):
                names = [name for name in group.names if name in graded]
                if names:
                    lr = self.lrs[member] * group.lr_scale if self.lr_table is None else self.lr_table[member, index]
                    self._update(member, names, lr, group.weight_decay)

    def _update(self, member: int, names: list[str], lr: float | torch.Tensor, weight_decay: float) -> None:
        """Member `member`'s update of parameters `names` with torch's own function."""
        views = [self.slices[member][name] for name in names]
        params = [view["param"] for view in views]
        grads = [self.params[name].grad[member] for name in names]
        if self.cfg.name == "sgd":
            # a zero buffer's first update (0 * momentum + grad) is torch's first buffer (a copy of the grad)
            buffers = [view.get("momentum_buffer") for view in views]  # None without momentum
            sgd(params, grads, buffers, foreach=True, weight_decay=weight_decay, momentum=self.cfg.momentum, lr=lr,
                dampening=0.0, nesterov=False, maximize=False)
            return
        beta1, beta2 = self.cfg.betas
        adam(params, grads, [view["exp_avg"] for view in views], [view["exp_avg_sq"] for view in views], [],
             [self.step_counts[member][name] for name in names], foreach=not self.fused, fused=self.fused,
             capturable=self.lr_table is not None and not self.fused, decoupled_weight_decay=self.cfg.name == "adamw",
             amsgrad=False, beta1=beta1, beta2=beta2, lr=lr, weight_decay=weight_decay, eps=self.cfg.eps,
             maximize=False)

    def member_state(self, member: int) -> dict[str, dict[str, torch.Tensor]]:
        """Member `member`'s per-parameter state as its own torch optimizer holds it (for the parameters updated so
        far; SGD without momentum holds none)."""
        if self.cfg.name == "sgd" and not self.cfg.momentum:
            return {}
        layout = torch.contiguous_format  # a stacked parameter may be laid out as its gradient arrives
        return {name: {**({"step": self.step_counts[member][name].cpu().clone()} if self.step_counts else {}),
                       **{key: value[member].clone(memory_format=layout) for key, value in self.state[name].items()}}
                for name in self.params if name in self.updated}
