"""A paper's headline claims as data. Each claim is a statement checkable on groklab runs: the paper's number and
where it stands, the runs it reads (arms: a scale of the preset with overrides, trained over seeds), how one
seed's number is measured from its arms, and the bound within which that number agrees with the paper.

A claim is decided on the median over its seeds: it `holds` when the median lies within the bound and `fails`
when it does not; it is `pending` while a run it reads is missing or unfinished. A bound is the paper's number
with the agreement a reader would accept (a factor for a step count read off a figure), stated beside the claim;
it is never widened to make a row pass (docs/scorecard.md says why each is what it is).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import numpy as np

from groklab.common.run_folder import FINISHED

Status = Literal["holds", "fails", "pending"]
Runs = Mapping[str, Any]  # arm name -> one seed's groklab.run.analysis.RunAnalysis (not imported: presets read this)


TICKET_RUNS = ("dense", "ticket", "random_mask", "dense_matched_norm")  # the ticket procedure's runs


@dataclass(frozen=True)
class Arm:
    """The runs a claim reads under one name: a scale of the claim's preset, with overrides. With `tickets`, the
    grokking-ticket procedure at that density (`groklab tickets`): its runs are read as NAME/dense, NAME/ticket,
    NAME/random_mask and NAME/dense_matched_norm."""

    scale: str
    overrides: tuple[str, ...] = ()
    tickets: float | None = None

    @property
    def name(self) -> str:
        """The arm's folder name in a scorecard: the scale, each override, the ticket density."""
        parts = (self.scale, *self.overrides, *([f"tickets-d{self.tickets:g}"] if self.tickets else []))
        return "__".join(parts).replace("/", "_")

    def runs(self, name: str) -> list[str]:
        """The names its runs are read under: `name`, or one per run of the ticket procedure."""
        return [f"{name}/{run}" for run in TICKET_RUNS] if self.tickets else [name]


class Measure(Protocol):
    def __call__(self, runs: Runs) -> float | None:
        """One seed's number from its arms' runs (inf: a threshold never reached); None: not measurable."""

    def describe(self) -> str: ...


@dataclass(frozen=True)
class StepsTo:
    """The first evaluated step at which `column` reaches `threshold` in `arm`'s run (inf when it never does)."""

    arm: str
    threshold: float
    column: str = "test_acc"

    def __call__(self, runs: Runs) -> float | None:
        history = runs[self.arm].history
        if not history.has(self.column):
            return None
        reached = np.flatnonzero(history.column(self.column) >= self.threshold)
        return float(history.steps[reached[0]]) if reached.size else math.inf

    def describe(self) -> str:
        return f"steps to {self.column} >= {self.threshold:g} ({self.arm})"


@dataclass(frozen=True)
class Ratio:
    """One measure over another (a speed-up, a delay factor)."""

    numerator: Measure
    denominator: Measure

    def __call__(self, runs: Runs) -> float | None:
        top, bottom = self.numerator(runs), self.denominator(runs)
        if top is None or bottom is None or bottom == 0 or (math.isinf(top) and math.isinf(bottom)):
            return None
        return top / bottom

    def describe(self) -> str:
        return f"({self.numerator.describe()}) / ({self.denominator.describe()})"


@dataclass(frozen=True)
class Fact:
    """A paper fact of `arm`'s run (groklab.signatures and the probes' facts): a number, a yes/no as 1/0, one
    `index` of a pair such as a phase's [start, end], or with `count` the length of a list."""

    arm: str
    name: str
    index: int | None = None
    count: bool = False

    def __call__(self, runs: Runs) -> float | None:
        value: Any = runs[self.arm].signature.get(self.name)
        if value is not None and self.count:
            value = len(value)
        elif value is not None and self.index is not None:
            value = value[self.index] if len(value) > self.index else None
        return None if value is None else float(value)

    def describe(self) -> str:
        what = f"number of {self.name}" if self.count else self.name + (f"[{self.index}]" if self.index is not None
                                                                         else "")
        return f"{what} ({self.arm})"


@dataclass(frozen=True)
class Final:
    """The last evaluation's value of `column` in `arm`'s run."""

    arm: str
    column: str

    def __call__(self, runs: Runs) -> float | None:
        history = runs[self.arm].history
        values = history.column(self.column) if history.has(self.column) else np.array([])
        finite = values[np.isfinite(values)]
        return float(finite[-1]) if finite.size else None

    def describe(self) -> str:
        return f"final {self.column} ({self.arm})"


@dataclass(frozen=True)
class Outcome:
    """1 when `arm`'s run reaches the outcome `expected` (groklab's outcome classes), else 0."""

    arm: str
    expected: str

    def __call__(self, runs: Runs) -> float | None:
        return float(runs[self.arm].analysis.outcome == self.expected)

    def describe(self) -> str:
        return f"outcome is {self.expected} ({self.arm})"


@dataclass(frozen=True)
class Delay:
    """Steps from memorization to generalization in `arm`'s run (groklab's events; None when either is
    missing)."""

    arm: str

    def __call__(self, runs: Runs) -> float | None:
        a = runs[self.arm].analysis
        if a.memorization_step is None or a.generalization_step is None:
            return None
        return float(a.generalization_step - a.memorization_step)

    def describe(self) -> str:
        return f"generalization step - memorization step ({self.arm})"


@dataclass(frozen=True)
class Lowest:
    """1 when `middle` is below every one of `others` (a U shape: the middle of a sweep lowest), else 0."""

    middle: Measure
    others: tuple[Measure, ...]

    def __call__(self, runs: Runs) -> float | None:
        middle, others = self.middle(runs), [m(runs) for m in self.others]
        return None if middle is None or None in others else float(all(middle < o for o in others))

    def describe(self) -> str:
        return f"{self.middle.describe()} below " + " and ".join(m.describe() for m in self.others)


@dataclass(frozen=True)
class Slingshots:
    """The number of Slingshot cycles in `arm`'s run (groklab.analysis.slingshot; None when it records no
    last-layer norm); with `at_test_jump`, only the cycles a test-accuracy transition overlaps."""

    arm: str
    at_test_jump: bool = False

    def __call__(self, runs: Runs) -> float | None:
        cycles = runs[self.arm].analysis.slingshots
        if cycles is None:
            return None
        return float(sum(1 for c in cycles if c["test_jump"] or not self.at_test_jump))

    def describe(self) -> str:
        return f"Slingshot cycles{' overlapping a test-accuracy jump' if self.at_test_jump else ''} ({self.arm})"


@dataclass(frozen=True)
class AllOf:
    """1 when every measure is 1 (several yes/no facts that make one claim), else 0."""

    measures: tuple[Measure, ...]

    def __call__(self, runs: Runs) -> float | None:
        values = [measure(runs) for measure in self.measures]
        return None if None in values else float(all(v == 1 for v in values))

    def describe(self) -> str:
        return " and ".join(measure.describe() for measure in self.measures)


@dataclass(frozen=True)
class Median:
    """The median of several measures of one seed (e.g. one per point of a sweep)."""

    measures: tuple[Measure, ...]

    def __call__(self, runs: Runs) -> float | None:
        values = [measure(runs) for measure in self.measures]
        return None if None in values else statistics.median(values)

    def describe(self) -> str:
        return f"median of {len(self.measures)}: " + "; ".join(m.describe() for m in self.measures)


@dataclass(frozen=True)
class Bound:
    """The values that agree with the paper: low <= value <= high."""

    low: float = -math.inf
    high: float = math.inf

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high

    def describe(self) -> str:
        if self.low == self.high:
            return {1: "yes", 0: "no"}.get(self.low, f"= {format_value(self.low)}")
        if math.isinf(self.high):
            return f">= {format_value(self.low)}"
        low, high = format_value(self.low), format_value(self.high)
        return f"<= {high}" if math.isinf(self.low) else f"{low} to {high}"


def within(paper: float, factor: float) -> Bound:
    """Within `factor` of the paper's number either way."""
    return Bound(paper / factor, paper * factor)


def at_least(value: float) -> Bound:
    return Bound(low=value)


def at_most(value: float) -> Bound:
    return Bound(high=value)


YES = Bound(1, 1)


@dataclass(frozen=True)
class Claim:
    """One headline claim of a paper, checkable on groklab runs."""

    key: str  # unique within its preset: the scorecard's row name
    statement: str  # what the paper claims, in a sentence
    source: str  # where the paper states it: figure, table or section, and whether the number is read off a figure
    paper: str  # the paper's number as the paper gives it
    measure: Measure
    bound: Bound
    arms: Mapping[str, Arm]
    note: str = ""  # why this bound; how the arms differ from the paper's settings, if they do

    def arm_names(self) -> set[str]:
        return set(self.arms)

    def on(self, arms: Mapping[str, Arm], note: str) -> Claim:
        """The same claim, measure and bound read on other runs (a quick scale's); `note` says how they differ."""
        return replace(self, arms=arms, note=note)


@dataclass(frozen=True)
class ClaimResult:
    """A claim decided over seeds: one value per measured seed, the status and why."""

    preset: str
    claim: Claim
    values: tuple[float, ...]
    status: Status
    reason: str
    run_dirs: tuple[str, ...] = field(default_factory=tuple)

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def measured(self) -> str:
        """The median and range over seeds, as a table shows them ('-' before any seed is measured)."""
        if not self.values:
            return "-"
        spread = f"; {format_value(min(self.values))} to {format_value(max(self.values))}" if len(self.values) > 1 \
            else ""
        return f"{format_value(self.median)}{spread}"

    def to_dict(self) -> dict[str, Any]:
        c = self.claim
        return {"preset": self.preset, "claim": c.key, "statement": c.statement, "source": c.source,
                "paper": c.paper, "measure": c.measure.describe(), "bound": c.bound.describe(), "note": c.note,
                "values": list(self.values), "median": self.median, "measured": self.measured,
                "status": self.status, "reason": self.reason,
                "arms": {name: {"scale": arm.scale, "overrides": list(arm.overrides)} for name, arm in c.arms.items()},
                "runs": list(self.run_dirs)}


def decide(preset: str, claim: Claim, seeds: Sequence[Mapping[str, Any]]) -> ClaimResult:
    """The claim over `seeds` (each: arm name -> that seed's run analysis, None where the run does not exist).
    While runs are missing or unfinished it is pending, with the values of the seeds whose runs have finished."""
    run_dirs = tuple(str(run.run_dir) for runs in seeds for run in runs.values() if run is not None)
    done = [runs for runs in seeds if all(run is not None and run.state in FINISHED for run in runs.values())]
    values = [claim.measure(runs) for runs in done]  # type: ignore[arg-type]
    measured = tuple(float(v) for v in values if v is not None)
    if len(done) < len(seeds) or not seeds:
        waiting = sum(1 for runs in seeds for run in runs.values() if run is None or run.state not in FINISHED)
        so_far = ""
        if done:
            so_far = f"; {len(done)} of {len(seeds)} seeds finished"
            so_far += f", median so far {format_value(statistics.median(measured))}" if measured else ""
        return ClaimResult(preset, claim, measured, "pending", f"{waiting} of its runs not finished{so_far}",
                           run_dirs)
    if None in values:
        return ClaimResult(preset, claim, measured, "fails",
                           f"not measurable on {values.count(None)} of {len(values)} seeds: "
                           f"{claim.measure.describe()} is missing from their runs", run_dirs)
    median = statistics.median(measured)
    holds = claim.bound.holds(median)
    reason = f"median {format_value(median)} {'within' if holds else 'outside'} {claim.bound.describe()}"
    return ClaimResult(preset, claim, measured, "holds" if holds else "fails", reason, run_dirs)


def format_value(value: float | None) -> str:
    """A number for a table: '-' for none, 'never' for a threshold never reached, whole numbers from 100 on, else
    3 significant digits."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "never" if value > 0 else "-inf"
    return f"{value:.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.3g}"
