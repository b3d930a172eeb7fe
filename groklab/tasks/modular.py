"""Modular binary-operation tables (Power et al. 2022; Nanda et al. 2023)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from groklab.common.seeding import generator
from groklab.config.task import ModularTaskCfg
from groklab.tasks.base import TASKS, TaskData

Tensor = torch.Tensor


def _inverse_table(p: int) -> Tensor:
    """Modular inverses of 0..p-1 (0 maps to 0 and is never used as a divisor)."""
    return torch.tensor([0] + [pow(y, -1, p) for y in range(1, p)], dtype=torch.long)


def _div(x: Tensor, y: Tensor, p: int) -> Tensor:
    return x * _inverse_table(p)[y]


OPERATIONS: dict[str, Callable[[Tensor, Tensor, int], Tensor]] = {
    "x+y": lambda x, y, p: x + y,
    "x-y": lambda x, y, p: x - y,
    "x*y": lambda x, y, p: x * y,
    "x/y": _div,
    "x^2+y": lambda x, y, p: x**2 + y,
    "x^3+y": lambda x, y, p: x**3 + y,
    "x^2+y^2": lambda x, y, p: x**2 + y**2,
    "x^2+xy+y^2": lambda x, y, p: x**2 + x * y + y**2,
    "x^2+xy+y^2+x": lambda x, y, p: x**2 + x * y + y**2 + x,
    "x^3+xy": lambda x, y, p: x**3 + x * y,
    "x^3+xy^2+y": lambda x, y, p: x**3 + x * y**2 + y,
    "mix_div_sub": lambda x, y, p: torch.where(y % 2 == 1, _div(x, y, p), x - y),
    "mix_add_mul": lambda x, y, p: torch.where(x % 2 == 0, x + y, x * y),
    "mix_add_sub": lambda x, y, p: torch.where(x % 2 == 0, x + y, x - y),
}


def equations(cfg: ModularTaskCfg) -> tuple[Tensor, Tensor]:
    """All operand tuples [n, n_terms] and their answers c = x op y (op ...) mod p, in row-major order."""
    ranges = [torch.arange(cfg.p)] + [torch.arange(cfg.first_y, cfg.p)] * (cfg.n_terms - 1)
    operands = torch.cartesian_prod(*ranges)
    if cfg.n_terms > 2:  # only addition has more terms
        return operands, operands.sum(1) % cfg.p
    x, y = operands[:, 0], operands[:, 1]
    return operands, OPERATIONS[cfg.operation](x, y, cfg.p) % cfg.p


def tokens(cfg: ModularTaskCfg, operands: Tensor) -> Tensor:
    """Token sequences: [x, op, y, =] (op is p, = is p+1), [x, y, =] (= is p) or [x, y]; more terms alike."""
    p, n = cfg.p, len(operands)
    if cfg.format == "x_y":
        return operands
    if cfg.format == "x_y_eq":
        return torch.cat([operands, torch.full((n, 1), p)], dim=1)
    columns = [operands[:, :1]]
    for i in range(1, cfg.n_terms):
        columns += [torch.full((n, 1), p), operands[:, i : i + 1]]
    return torch.cat(columns + [torch.full((n, 1), p + 1)], dim=1)


@TASKS.register("modular")
def build_modular(cfg: ModularTaskCfg, seed: int) -> TaskData:
    """Seeded random split of the full operation table into train and test."""
    operands, c = equations(cfg)
    inputs = tokens(cfg, operands)
    order = torch.randperm(len(c), generator=generator(seed, "split"))
    train, test = order[: cfg.n_train], order[cfg.n_train :]
    return TaskData(
        train_x=inputs[train], train_y=c[train], test_x=inputs[test], test_y=c[test],
        vocab_size=cfg.vocab_size, seq_len=inputs.shape[1], n_classes=cfg.n_classes,
    )
