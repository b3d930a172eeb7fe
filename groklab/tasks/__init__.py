"""Task registry: name -> builder(cfg, seed) -> TaskData. Builders register on import."""

from typing import Any

from groklab.tasks import knowledge_graph, linear_teacher, mnist, modular, pair_sum  # noqa: F401  (registers)
from groklab.tasks.base import TASKS, TaskData


def build_task(cfg: Any, seed: int) -> TaskData:
    """Build the task named by `cfg.name`."""
    return TASKS.get(cfg.name)(cfg, seed)


__all__ = ["TASKS", "TaskData", "build_task"]
