"""A run's verdict from the claims it alone decides: its preset's claims (the paper's scale and the quick scale's)
with every arm at this run's config, the seed and device aside."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from groklab.analysis import Verdict
from groklab.claims import Arm, Claim, decide
from groklab.config import RunConfig, config_changes
from groklab.presets import discover
from groklab.resolve import get_preset, resolve

SETTING_ASIDE = ("seed", "device")  # a run of an arm may have any seed and train anywhere


@lru_cache(maxsize=256)
def _arm_config(preset: str, scale: str, overrides: tuple[str, ...]) -> RunConfig:
    return resolve(preset, scale, list(overrides))


def is_arm(cfg: RunConfig, preset: str, arm: Arm) -> bool:
    """Whether a run of `cfg` is a run of `arm` of `preset` (any seed, any device)."""
    return (cfg.preset == preset and arm.tickets is None and arm.scale == cfg.scale
            and not config_changes(_arm_config(preset, arm.scale, arm.overrides), cfg, SETTING_ASIDE))


def claims_reading(cfg: RunConfig) -> list[Claim]:
    """The claims of cfg's preset whose arms are all one run with cfg's setting."""
    if cfg.preset is None or cfg.preset not in discover():
        return []
    preset = get_preset(cfg.preset)
    return [claim for claim in (*preset.claims, *preset.quick_claims)
            if len(set(claim.arms.values())) == 1 and is_arm(cfg, preset.id, next(iter(claim.arms.values())))]


def claims_verdict(run: Any) -> Verdict | None:
    """`run` (a RunAnalysis) against the claims it decides: holds when all hold, fails when one fails, pending
    while it has not finished; None when it decides none."""
    cfg = run.config
    claims = claims_reading(cfg) if cfg is not None else []
    if not claims:
        return None
    results = [decide(cfg.preset, claim, [dict.fromkeys(claim.arms, run)]) for claim in claims]
    statuses = {r.status for r in results}
    status = next(s for s in ("pending", "fails", "holds") if s in statuses)
    reason = "; ".join(f"{r.claim.key} {r.status} ({r.reason})" for r in results)
    reported = get_preset(cfg.preset).reported
    held = sum(r.status == "holds" for r in results)
    return Verdict(status, f"{held} of {len(results)} claims hold: {reason}", reported.outcome,
                   reported.generalization_step, reported.step_factor)
