"""The outcome class of a run, by the rule documented in docs/analysis.md."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from groklab.analysis.events import (
    delay_ratio,
    generalization_step,
    grokking_delay,
    memorization_step,
    steepest_descent_step,
    transitions,
)
from groklab.analysis.slingshot import find_slingshots
from groklab.common.run_folder import FINISHED
from groklab.history.reader import History

Outcome = Literal["not_learning", "memorizing", "grokked", "generalized", "diverged", "incomplete"]
OUTCOMES: tuple[str, ...] = ("not_learning", "memorizing", "grokked", "generalized", "diverged", "incomplete")


@dataclass(frozen=True)
class AnalysisSpec:
    """What the analysis needs besides the history: thresholds, chance level and run state."""

    memorization_threshold: float = 0.99
    generalization_threshold: float = 0.95
    min_delay_ratio: float = 2.0
    chance_accuracy: float | None = None
    state: str = "completed"  # status.json state: queued, running, completed, failed, diverged


@dataclass(frozen=True)
class Analysis:
    outcome: Outcome
    memorization_step: int | None
    generalization_step: int | None
    grokking_delay: int | None
    delay_ratio: float | None
    final: dict[str, float | int | None]
    transitions: list[dict[str, float | int]]
    steepest_test_loss_step: int | None
    spec: AnalysisSpec
    partial: bool = False
    problems: list[str] = field(default_factory=list)
    slingshots: list[dict] | None = None  # Slingshot cycles, when the history records last_layer_norm

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _final(history: History) -> dict[str, float | int | None]:
    last = history.records[-1]
    keys = ("train_loss", "train_acc", "test_loss", "test_acc")
    return {"step": last["step"], **{k: last.get(k) for k in keys}}


def _has_non_finite(history: History) -> bool:
    losses = np.concatenate([history.column("train_loss"), history.column("test_loss")])
    return bool(np.isnan(losses).any() or np.isinf(losses).any())


def classify(
    memorization: int | None, generalization: int | None, diverged: bool, finished: bool, min_ratio: float
) -> Outcome:
    """The outcome rule: diverged > grokked/generalized > incomplete > memorizing > not_learning."""
    if diverged:
        return "diverged"
    if memorization is not None and generalization is not None:
        ratio = delay_ratio(memorization, generalization)
        return "grokked" if generalization > memorization and ratio >= min_ratio else "generalized"
    if not finished:
        return "incomplete"
    return "memorizing" if memorization is not None else "not_learning"


def analyze_history(history: History, spec: AnalysisSpec = AnalysisSpec()) -> Analysis:
    """Events and outcome of one run. Pure: no I/O."""
    steps = history.steps
    memorization = memorization_step(steps, history.column("train_acc"), spec.memorization_threshold)
    generalization = generalization_step(steps, history.column("test_acc"), spec.generalization_threshold)
    diverged = spec.state == "diverged" or _has_non_finite(history)
    outcome = classify(memorization, generalization, diverged, spec.state in FINISHED, spec.min_delay_ratio)
    jumps = transitions(steps, history.column("test_acc"))
    slingshots = ([s.to_dict() for s in find_slingshots(history, jumps)]
                  if history.has("last_layer_norm") else None)
    return Analysis(
        outcome=outcome,
        memorization_step=memorization,
        generalization_step=generalization,
        grokking_delay=grokking_delay(memorization, generalization),
        delay_ratio=delay_ratio(memorization, generalization),
        final=_final(history),
        transitions=jumps,
        steepest_test_loss_step=steepest_descent_step(steps, history.column("test_loss")),
        spec=spec,
        partial=bool(history.problems),
        problems=list(history.problems),
        slingshots=slingshots,
    )
