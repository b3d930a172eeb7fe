"""Task registry: name -> builder(cfg, seed) -> TaskData. Builders register on import."""

from collections.abc import Callable
from typing import Any

from groklab.registry import Registry
from groklab.tasks.base import TaskData

TASKS: Registry[Callable[[Any, int], TaskData]] = Registry("task")

from groklab.tasks import knowledge_graph, linear_teacher, mnist, modular, pair_sum  # noqa: E402,F401  (registers)


def build_task(cfg: Any, seed: int) -> TaskData:
    """Build the task named by `cfg.name`."""
    return TASKS.get(cfg.name)(cfg, seed)


__all__ = ["TASKS", "TaskData", "build_task"]
