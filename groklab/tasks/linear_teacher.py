"""Linear teacher-student regression with Gaussian inputs (Levi et al. 2024)."""

from __future__ import annotations

import math

import torch

from groklab.common.seeding import generator
from groklab.config.task import LinearTeacherTaskCfg
from groklab.tasks.base import TASKS, TaskData


@TASKS.register("linear_teacher")
def build_linear_teacher(cfg: LinearTeacherTaskCfg, seed: int) -> TaskData:
    """x ~ N(0, I_d_in); the teacher T has N(0, 1/d_in) entries, so each output of T x has unit variance."""
    g = generator(seed, "split")
    teacher = torch.randn(cfg.d_out, cfg.d_in, generator=g) / math.sqrt(cfg.d_in)
    train_x = torch.randn(cfg.n_train, cfg.d_in, generator=g)
    test_x = torch.randn(cfg.n_test, cfg.d_in, generator=g)
    return TaskData(train_x=train_x, train_y=train_x @ teacher.T, test_x=test_x, test_y=test_x @ teacher.T,
                    vocab_size=0, seq_len=cfg.d_in, n_classes=cfg.d_out)
