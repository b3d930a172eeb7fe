"""Paper presets: a config per scale, the citation, the paper's reported outcome and its headline claims.

Each module in groklab/papers/ defines one `PRESET`; they are discovered, never listed by hand.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any

from groklab.claims import Claim
from groklab.registry import Registry


@dataclass(frozen=True)
class ReportedOutcome:
    """What the paper reports at its own (canonical) settings."""

    outcome: str
    summary: str
    generalization_step: int | None = None  # the paper's step at which test accuracy crossed, if stated
    step_factor: float = 3.0  # a canonical run matches if its step is within this factor of the paper's


@dataclass(frozen=True)
class Study:
    """A grid of runs around a preset scale that shows the paper's signature (e.g. a phase diagram).

    `grid` maps dotted config keys to the values to try; every combination is one run."""

    scale: str
    grid: dict[str, list[Any]]
    question: str
    seeds: int = 1
    fixed: list[str] = field(default_factory=list)  # overrides applied to every point (e.g. fewer steps)
    batched: bool = False  # `groklab suite --full` trains the points as one batched computation (sweep --batched)


@dataclass(frozen=True)
class TicketsStudy:
    """A grokking-ticket comparison (`groklab tickets`) that `groklab suite` runs for the preset."""

    scale: str
    density: float
    retrain_steps: int | None = None  # steps of the ticket and control runs (default: the scale's own)


@dataclass(frozen=True)
class Preset:
    id: str
    alias: str
    title: str
    citation: str
    url: str
    version: int
    scales: dict[str, dict[str, Any]]
    reported: ReportedOutcome
    notes: str = ""
    verified: dict[str, str] = field(default_factory=dict)  # scale -> "date: what was checked"
    studies: dict[str, Study] = field(default_factory=dict)  # name -> grid run by `groklab suite`
    outcome_labels: dict[str, str] = field(default_factory=dict)  # the paper's names for outcome classes
    quick_outcome: str | None = None  # what the quick scale reaches, when it differs from `reported`
    tickets: list[TicketsStudy] = field(default_factory=list)  # ticket comparisons run by `groklab suite`
    quick_seconds: int | None = None  # measured training time of the quick scale, one of two runs side by side
    claims: tuple[Claim, ...] = ()  # the paper's headline claims, as `groklab scorecard` checks them
    # the claims (of `claims`, read on quick runs, the paper's bounds kept) that the quick scale shows, and what it
    # shows of the paper, or cannot, in a sentence
    quick_claims: tuple[Claim, ...] = ()
    quick_shows: str = ""

    @property
    def expected_quick_outcome(self) -> str:
        return self.quick_outcome or self.reported.outcome

    def expected_outcome(self, scale: str | None) -> str | None:
        """The outcome a run of `scale` should reach: the quick scale's own, the paper's for the canonical scale,
        None for other scales (variants whose outcome is what they study)."""
        return {"quick": self.expected_quick_outcome, "canonical": self.reported.outcome}.get(scale or "")

    def config_dict(self, scale: str) -> dict[str, Any]:
        """The scale's config as a plain dict (a fresh copy) with preset, its version and scale filled in."""
        if scale not in self.scales:
            raise KeyError(f"preset {self.id} has no scale '{scale}'; scales: {', '.join(self.scales)}")
        return {**copy.deepcopy(self.scales[scale]), "preset": self.id, "preset_version": self.version,
                "scale": scale}


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Deep copy of `base` with `changes` merged in recursively (for deriving one scale from another)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


PRESETS: Registry[Preset] = Registry("preset")


def expected_outcome(preset_id: str | None, scale: str | None) -> str | None:
    """The outcome a run of preset `preset_id` at `scale` should reach, the one rule the suite, the report and
    the command line use (Preset.expected_outcome): None for custom configs, imported runs and scales other than
    quick and canonical."""
    registry = discover()
    return registry.get(preset_id).expected_outcome(scale) if preset_id and preset_id in registry else None


def presets() -> list[Preset]:
    """All registered presets, in id order."""
    registry = discover()
    return [registry.get(name) for name in registry.names()]


def discover() -> Registry[Preset]:
    """Import every module of groklab.papers and register its PRESET (idempotent)."""
    import groklab.papers as papers

    for module_info in pkgutil.iter_modules(papers.__path__):
        module = importlib.import_module(f"groklab.papers.{module_info.name}")
        preset = getattr(module, "PRESET", None)
        if isinstance(preset, Preset) and preset.id not in PRESETS:
            PRESETS.add(preset.id, preset, aliases=(preset.alias,))
    return PRESETS


def settings_summary(config: dict[str, Any]) -> str:
    """One line for a scale's resolved config: task, model, optimizer, batch, steps, loss."""
    from groklab.config import validate_config

    cfg = validate_config(config)
    model = cfg.model
    shape = {"transformer": lambda: f"{model.n_layers}-layer transformer d{model.d_model}",
             "mlp": lambda: f"MLP width {model.width} depth {model.depth} {model.activation}"}
    optim = cfg.optim
    batch = "full batch" if cfg.train.batch_size is None else f"batch {cfg.train.batch_size}"
    return (f"{cfg.task.describe()}; {shape.get(model.name, lambda: model.name)()}; {optim.name} lr {optim.lr:g} "
            f"wd {optim.weight_decay:g}; {batch}; {cfg.train.steps} steps; {cfg.train.loss}")


def markdown_table(presets: list[Preset]) -> str:
    """The presets as a Markdown table (docs/presets.md holds it; `groklab papers --markdown` prints it)."""
    lines = ["| id | alias | paper | version | canonical | quick | other scales | reported (quick reaches) |",
             "|---|---|---|---|---|---|---|---|"]
    for p in presets:
        others = ", ".join(name for name in p.scales if name not in ("canonical", "quick")) or "-"
        reached = f" ({p.quick_outcome})" if p.quick_outcome else ""
        lines.append(f"| {p.id} | {p.alias} | {p.citation} | {p.version} | "
                     f"{settings_summary(p.config_dict('canonical'))} | {settings_summary(p.config_dict('quick'))} | "
                     f"{others} | {p.reported.outcome}{reached} |")
    return "\n".join(lines) + "\n"
