"""Diagnosis: the evidence behind an outcome and a concrete next step. Pure functions, no I/O."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from groklab.analysis.outcome import Analysis
from groklab.history.reader import History


@dataclass(frozen=True)
class RunFacts:
    """What a diagnosis may use from the run's config; None where unknown (e.g. imported logs)."""

    n_classes: int | None = None
    loss: str | None = None  # "cross_entropy" or "mse"
    optimizer: str | None = None
    lr: float | None = None
    weight_decay: float | None = None
    total_steps: int | None = None
    stopped_early: str | None = None  # why training stopped before its budget (train.stop_when_not_learning)


@dataclass(frozen=True)
class Diagnosis:
    summary: str
    evidence: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _pct(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.2f}%"


MAX_FORECAST_EXPONENT = 300  # a line that needs more than 10^300 steps is no forecast (and overflows a float)


def trend_forecast(history: History, threshold: float, tail: float = 0.3) -> tuple[float, int | None]:
    """Slope of test accuracy per decade of steps over the last `tail` of the run (in log steps), and the
    step at which that straight line in log(step) reaches `threshold` (None if it is not rising)."""
    steps, acc = history.steps.astype(float), history.column("test_acc")
    keep = (steps > 0) & np.isfinite(acc)
    steps, acc = steps[keep], acc[keep]
    if len(steps) < 3:
        return 0.0, None
    logs = np.log10(steps)
    recent = logs >= logs[-1] - tail * (logs[-1] - logs[0])
    if recent.sum() < 2:
        recent[-2:] = True
    slope, intercept = np.polyfit(logs[recent], acc[recent], 1)
    if slope <= 1e-3:
        return float(slope), None
    exponent = (threshold - intercept) / slope
    return float(slope), int(10**exponent) if exponent <= MAX_FORECAST_EXPONENT else None


def _not_learning(a: Analysis, facts: RunFacts) -> Diagnosis:
    final, evidence = a.final, []
    chance = a.spec.chance_accuracy
    train_acc, train_loss = final["train_acc"], final["train_loss"]
    evidence.append(f"final train accuracy {_pct(train_acc)}, test {_pct(final['test_acc'])} after step {final['step']}"
                    + (f"; chance is {_pct(chance)}" if chance else ""))
    near_chance = chance is not None and train_acc is not None and train_acc < 2 * chance + 0.02
    if facts.n_classes and train_loss is not None:
        c = facts.n_classes
        if facts.loss != "mse" and abs(train_loss - math.log(c)) < 0.02 * math.log(c):
            evidence.append(f"train loss {train_loss:.4f} equals ln({c}) = {math.log(c):.4f}: the network predicts "
                            "the uniform distribution, its outputs carry no information about the input")
        if facts.loss == "mse" and abs(train_loss - (1 / c) * (1 - 1 / c)) < 0.1 / c:
            evidence.append(f"MSE {train_loss:.4f} equals (1/{c})(1-1/{c}) = {(1 / c) * (1 - 1 / c):.4f}: the "
                            "network predicts the mean target for every input")
    if facts.stopped_early:
        evidence.append(f"stopped early at step {final['step']}"
                        + (f" of {facts.total_steps}" if facts.total_steps else "") + f": {facts.stopped_early}")
    if near_chance:
        summary = "not learning: training accuracy stayed at chance, so the model never fitted the training set"
        suggestions = [
            f"check the learning rate{f' (optim.lr={facts.lr:g})' if facts.lr is not None else ''}: these papers "
            "use 1e-3 with Adam/AdamW; a run that fits nothing in thousands of steps usually has one far too small "
            "or too large",
            "check that the loss matches the targets (cross-entropy on class ids, or MSE on one-hot targets with "
            "outputs of the right scale) and that the optimizer updates the model's parameters",
            "run a few hundred steps first: training accuracy should leave chance early; do not spend a long "
            "budget on a config before it does",
        ]
    else:
        summary = "not learning enough: training accuracy rose above chance but never reached its threshold"
        suggestions = ["train longer (train.steps) or raise model capacity; check the learning rate is not so "
                       "large that training is unstable"]
    return Diagnosis(summary, evidence, suggestions)


def _memorizing(a: Analysis, history: History, facts: RunFacts) -> Diagnosis:
    threshold = a.spec.generalization_threshold
    slope, forecast = trend_forecast(history, threshold)
    evidence = [f"train accuracy reached {_pct(a.spec.memorization_threshold)} at step {a.memorization_step}; test "
                f"accuracy is {_pct(a.final['test_acc'])} at step {a.final['step']}"]
    if forecast is not None:
        evidence.append(f"test accuracy is rising by {100 * slope:.1f} points per 10x steps; if that continues it "
                        f"reaches {_pct(threshold)} near step {forecast:.3g} (a rough log-linear extrapolation)")
        summary = f"memorizing, with test accuracy rising: it may grok, around step {forecast:.3g} at this rate"
    else:
        evidence.append("test accuracy shows no upward trend over the last part of the run")
        summary = "memorizing: no sign of generalization at this budget"
    suggestions = []
    if facts.weight_decay == 0:
        suggestions.append("weight decay is 0: in these settings grokking is driven by weight decay; try "
                           "optim.weight_decay=1 with AdamW (or expect a budget 10-100x longer)")
    elif facts.weight_decay is not None:
        suggestions.append(f"raise weight decay (optim.weight_decay={2 * facts.weight_decay:g}) to shorten the delay")
    if facts.total_steps:
        target = max(forecast or 0, 10 * facts.total_steps) if forecast else 10 * facts.total_steps
        suggestions.append(f"train longer: train.steps={int(target):d}, resuming this run is not needed, the "
                           "config reruns identically")
    suggestions.append("raise the training fraction (task.train_frac): the delay grows steeply as it falls")
    return Diagnosis(summary, evidence, suggestions)


def diagnose(analysis: Analysis, history: History, facts: RunFacts = RunFacts()) -> Diagnosis:
    """Explain `analysis.outcome` with numbers from the history and suggest the next step."""
    a, final = analysis, analysis.final
    if a.outcome == "not_learning":
        return _not_learning(a, facts)
    if a.outcome == "memorizing":
        return _memorizing(a, history, facts)
    if a.outcome == "grokked":
        return Diagnosis(
            f"grokked: test accuracy reached {_pct(a.spec.generalization_threshold)} {a.grokking_delay} steps "
            f"({a.delay_ratio:.1f}x) after training accuracy reached {_pct(a.spec.memorization_threshold)}",
            [f"memorization at step {a.memorization_step}, generalization at step {a.generalization_step}",
             f"final train {_pct(final['train_acc'])}, test {_pct(final['test_acc'])}"],
            ["to shorten the delay: more weight decay, a larger training fraction, or a gradient filter (Grokfast)"],
        )
    if a.outcome == "generalized":
        return Diagnosis(
            "generalized without a delay: test accuracy followed training accuracy",
            [f"memorization at step {a.memorization_step}, generalization at step {a.generalization_step} "
             f"(ratio {a.delay_ratio:.1f}, below analysis.min_delay_ratio={a.spec.min_delay_ratio:g})"],
            ["to see grokking, lower the training fraction (task.train_frac) or the weight decay"],
        )
    if a.outcome == "diverged":
        losses = history.column("train_loss")
        finite = np.isfinite(losses)
        where = f" at step {int(history.steps[~finite][0])}" if (~finite).any() else ""
        last = f"{losses[finite][-1]:.4g}" if finite.any() else "none"
        return Diagnosis(
            f"diverged: the loss became NaN or infinite{where}",
            [f"last finite train loss {last}"],
            ["lower the learning rate or lengthen the warmup (optim.warmup_steps)",
             "compute the loss in float64 (train.loss_dtype=float64)"],
        )
    return Diagnosis(
        f"incomplete: the run is at step {final['step']} and has not generalized yet",
        [f"train {_pct(final['train_acc'])}, test {_pct(final['test_acc'])} at step {final['step']}"],
        ["let it finish, or continue a stopped run with `groklab run --resume RUN_DIR`"],
    )
