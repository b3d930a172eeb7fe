"""A run against its paper's reported outcome. Pure: plain values in, a verdict out."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from groklab.analysis.outcome import Analysis


@dataclass(frozen=True)
class Verdict:
    # replicated, not_replicated, not_scored (quick scale or custom run), pending (not finished); from the claims
    # a run decides (groklab.run.claims_verdict): holds, fails, pending
    status: str
    reason: str
    reported_outcome: str | None
    reported_generalization_step: int | None
    step_factor: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def verdict(
    analysis: Analysis, scale: str | None, reported_outcome: str | None,
    reported_step: int | None = None, step_factor: float | None = None,
) -> Verdict:
    """Score a canonical-scale run: the outcome class must match the paper's, and the generalization step
    must lie within `step_factor` of the paper's where the paper states one."""
    args = (reported_outcome, reported_step, step_factor)
    if reported_outcome is None:
        return Verdict("not_scored", "no reported outcome to compare with (custom run)", *args)
    if scale != "canonical":
        return Verdict("not_scored", f"only the canonical scale is scored against the paper (this is {scale})", *args)
    if analysis.outcome == "incomplete":
        return Verdict("pending", "the run has not finished", *args)
    if analysis.outcome != reported_outcome:
        return Verdict("not_replicated", f"outcome {analysis.outcome}, the paper reports {reported_outcome}", *args)
    got = analysis.generalization_step
    if reported_step and step_factor and got is not None:
        ratio = got / reported_step
        if not 1 / step_factor <= ratio <= step_factor:
            return Verdict("not_replicated", f"generalization at step {got}, {ratio:.2f}x the paper's {reported_step} "
                           f"(allowed: within {step_factor:g}x)", *args)
        return Verdict("replicated", f"outcome {reported_outcome}; generalization at step {got}, {ratio:.2f}x the "
                       f"paper's {reported_step}", *args)
    return Verdict("replicated", f"outcome {reported_outcome} matches", *args)


def aggregate(analyses: list[Analysis]) -> dict:
    """Several seeds of one setting: outcome counts and the median and range of the generalization step."""
    steps = sorted(a.generalization_step for a in analyses if a.generalization_step is not None)
    outcomes: dict[str, int] = {}
    for a in analyses:
        outcomes[a.outcome] = outcomes.get(a.outcome, 0) + 1
    median = None
    if steps:
        mid = len(steps) // 2
        median = steps[mid] if len(steps) % 2 else (steps[mid - 1] + steps[mid]) / 2
    return {"runs": len(analyses), "outcomes": outcomes, "generalization_step_median": median,
            "generalization_step_min": steps[0] if steps else None,
            "generalization_step_max": steps[-1] if steps else None}
