"""Grokking accelerators across presets: each preset's quick scale as it is (the baseline) and with Grokfast,
⊥Grad or StableMax added, for several seeds, and the steps each needs to reach its generalization threshold.

A speed-up folder holds speedup.json (what was asked) and `<preset>/<accelerator>/s<seed>/` run folders.
Running the same command again reuses finished runs and resumes killed ones.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from groklab.common.run_folder import find_runs, point_state
from groklab.config import ConfigError, RunConfig
from groklab.launch.executor import Executor, Job, Local, unfinished
from groklab.launch.plan import Plan, PlanResult, Stage, execute
from groklab.plots import plot_speedup, save_figure
from groklab.presets import presets
from groklab.report.render import SweepEntry
from groklab.resolve import derive, get_preset, resolve
from groklab.run.analysis import analyze
from groklab.studies.base import StudyKind, StudySection, claim_study, find_studies, read_study_spec, register

BASELINE = "baseline"


@dataclass(frozen=True)
class Accelerator:
    """A named set of config changes that a preset may or may not admit."""

    changes: dict[str, Any]
    description: str
    classifier_only: bool = False  # needs a softmax classifier (cross-entropy loss)


ACCELERATORS: dict[str, Accelerator] = {
    "grokfast_ema": Accelerator({"optim.grad_filter": "ema"}, "Grokfast-EMA, alpha 0.98, lambda 2 (Lee et al. 2024)"),
    "grokfast_ma": Accelerator({"optim.grad_filter": "ma"}, "Grokfast-MA, window 100, lambda 5 (Lee et al. 2024)"),
    "orthogonal": Accelerator({"optim.orthogonal": True}, "⊥Grad on the preset's optimizer (Prieto et al. 2025)"),
    "stablemax": Accelerator({"train.loss": "stablemax", "train.loss_dtype": "float64"},
                             "StableMax cross-entropy in float64 (Prieto et al. 2025)", classifier_only=True),
}
DEFAULT_ACCELERATORS = ("grokfast_ema", "orthogonal", "stablemax")
ACCELERATOR_PRESETS = ("lee2024_grokfast", "prieto2025_stablemax")  # the accelerators' own papers


def default_presets() -> list[str]:
    """Every preset but the accelerators' own papers (Grokfast, StableMax), in id order."""
    return [p.id for p in presets() if p.id not in ACCELERATOR_PRESETS]


def arm_changes(accelerator: str, cfg: RunConfig) -> tuple[dict[str, Any] | None, str]:
    """The config changes that add `accelerator` to `cfg`, or None and why it does not apply."""
    if accelerator == BASELINE:
        return {}, ""
    chosen = ACCELERATORS[accelerator]
    if chosen.classifier_only and cfg.train.loss != "cross_entropy":
        return None, f"needs cross-entropy; the preset trains with {cfg.train.loss}"
    if cfg.optim.grad_filter != "none" and accelerator.startswith("grokfast"):
        return None, f"the preset already filters gradients ({cfg.optim.grad_filter})"
    return dict(chosen.changes), ""


@dataclass(frozen=True)
class SpeedupSpec:
    presets: list[str]
    accelerators: list[str]
    seeds: int = 3
    scale: str = "quick"
    first_seed: int | None = None  # None: each preset's own seed
    fixed: list[str] = field(default_factory=list)  # overrides applied to every arm (e.g. a shorter budget)
    stop_at_generalization: bool = True  # stop each run once test accuracy reaches the preset's threshold

    def check(self) -> None:
        """Refuse unknown accelerators or presets before any run starts."""
        problems = [f"unknown accelerator '{a}'; choose from {', '.join(ACCELERATORS)}"
                    for a in self.accelerators if a not in ACCELERATORS]
        for preset in self.presets:
            try:
                get_preset(preset).config_dict(self.scale)
            except KeyError as err:
                problems.append(str(err).strip("'\""))
        if problems:
            raise ConfigError(problems)


@dataclass
class Arm:
    """One preset with one accelerator (or none): the steps each seed needed to reach the threshold."""

    preset: str
    accelerator: str
    budget: int
    steps: list[int | None] = field(default_factory=list)  # per seed; None: threshold not reached
    skipped: str = ""  # why the accelerator does not apply to this preset

    @property
    def median(self) -> float | None:
        """Median steps over seeds, a seed that never reached the threshold counting as infinitely many;
        None when that median is infinite (or nothing ran)."""
        if not self.steps:
            return None
        value = statistics.median([math.inf if s is None else s for s in self.steps])
        return None if math.isinf(value) else value


def run_speedup(spec: SpeedupSpec, out: Path, workers: int = 1, show_progress: bool = True,
                report: Callable[[str], None] = print, executor: Executor | None = None,
                wait: bool = False) -> list[Arm] | PlanResult:
    """Train every (preset, accelerator) arm with spec.seeds seeds into `out`/<preset>/<arm>/s<seed> as one plan
    (here `workers` at a time, each arm's new seeds as one batched computation; or on SLURM), finished runs reused
    and killed ones resumed; the arms, or, on SLURM without `wait`, where the plan stopped."""
    spec.check()
    configs = {(preset, arm): _arm_config(spec, preset, arm)[0] for preset in spec.presets
               for arm in [BASELINE, *spec.accelerators]}
    jobs = [Job(derive(cfg, {"seed": cfg.seed + i}), out / preset / arm / f"s{cfg.seed + i}", stackable=True)
            for (preset, arm), cfg in configs.items() if cfg is not None for i in range(spec.seeds)]
    plan = Plan(f"speed-up table {out}", [Stage("arms", jobs)])
    unfinished(jobs)  # every folder checked before the claim
    claim_study(out, SPEEDUP, asdict(spec))
    result = execute(plan, executor or Local(workers, show_progress), report, wait)
    return result if result.stopped else load_speedup(out)


def _arm_config(spec: SpeedupSpec, preset: str, arm: str) -> tuple[RunConfig | None, str]:
    base = resolve(preset, spec.scale, overrides=spec.fixed, seed=spec.first_seed)
    changes, reason = arm_changes(arm, base)
    if changes is None:
        return None, reason
    if spec.stop_at_generalization:  # the steps to the threshold are all the table needs
        changes["train.stop_at_test_acc"] = base.analysis.generalization_threshold
    return derive(base, changes), ""


def read_spec(out: Path) -> SpeedupSpec:
    """What a speed-up folder was asked to measure (its speedup.json)."""
    return SpeedupSpec(**read_study_spec(out, SPEEDUP))


def load_speedup(out: Path) -> list[Arm]:
    """The arms of a speed-up folder, read from its runs' histories (runs not yet finished count as missing)."""
    spec = read_spec(out)
    arms = []
    for preset in spec.presets:
        for name in [BASELINE, *spec.accelerators]:
            cfg, reason = _arm_config(spec, preset, name)
            arm = Arm(preset, name, budget=(cfg.train.steps if cfg else 0), skipped=reason)
            for run_dir in sorted((out / preset / name).glob("s*")) if cfg else ():
                if point_state(run_dir) == "finished":
                    arm.steps.append(analyze(run_dir, write=False).analysis.generalization_step)
            arms.append(arm)
    return arms


def find_speedups(root: Path) -> list[Path]:
    """Speed-up folders at or below `root`."""
    return find_studies(root, SPEEDUP)


SPEEDUP_HEADER = ["preset", "accelerator", "steps to generalization (per seed)", "median", "speed-up vs baseline",
                  "seeds that reached it"]


def speedup_rows(arms: list[Arm]) -> tuple[list[list[str]], list[str]]:
    """Table rows and findings (where an accelerator helps, where it hurts)."""
    baseline = {a.preset: a for a in arms if a.accelerator == BASELINE}
    rows, helped, hurt, mixed = [], [], [], []
    for arm in arms:
        if arm.skipped:
            rows.append([arm.preset, arm.accelerator, "n/a", "-", "-", arm.skipped])
            continue
        if not arm.steps:
            rows.append([arm.preset, arm.accelerator, "not run", "-", "-", ""])
            continue
        steps = ", ".join(str(s) if s is not None else f">{arm.budget}" for s in arm.steps)
        median = f"{arm.median:g}" if arm.median is not None else f">{arm.budget}"
        ratio, verdict = _speedup(baseline.get(arm.preset), arm)
        reached = sum(s is not None for s in arm.steps)
        base = baseline.get(arm.preset)
        fewer = base is not None and reached < sum(s is not None for s in base.steps)
        label = f"{arm.preset} {arm.accelerator} ({ratio}, {reached}/{len(arm.steps)} seeds)"
        if verdict == "helps":
            (mixed if fewer else helped).append(label)
        elif verdict == "hurts" or (verdict == "same" and fewer):
            hurt.append(label)
        rows.append([arm.preset, arm.accelerator, steps, median, ratio, f"{reached}/{len(arm.steps)}"])
    findings = ["faster than the baseline: " + (", ".join(helped) or "none"),
                "faster in the median, but fewer seeds reach the threshold than without it: "
                + (", ".join(mixed) or "none"),
                "slower than the baseline, or fewer seeds reaching the threshold: " + (", ".join(hurt) or "none")]
    return rows, findings


def _speedup(base: Arm | None, arm: Arm) -> tuple[str, str]:
    """('3.1x', 'helps'|'hurts'|'same'|'') comparing median steps; an infinite median is the budget, a bound."""
    if arm.accelerator == BASELINE or base is None or not base.steps:
        return "-", ""
    a, b = arm.median, base.median
    if a is None and b is None:
        return "neither reached", ""
    if a is None:
        return f"<{b / arm.budget:.2g}x", "hurts"
    if b is None:
        return f">{base.budget / a:.2g}x", "helps"
    ratio = b / a
    return f"{ratio:.2g}x", "helps" if ratio > 1.25 else "hurts" if ratio < 0.8 else "same"


def speedup_entry(out: Path, runs_dir: Path, figures_dir: Path) -> SweepEntry:
    """A speed-up folder as a report section: the table, findings and the figure."""
    spec = read_spec(out)
    arms = load_speedup(out)
    rows, findings = speedup_rows(arms)
    where = out.relative_to(runs_dir) if out != runs_dir else out
    findings.insert(0, f"{len(spec.presets)} presets at the {spec.scale} scale, {spec.seeds} seeds each, in {where}; "
                    "a seed that does not reach the preset's generalization threshold counts as its budget (a bound)")
    figure = figures_dir / f"{out.name}-speedup.png"
    save_figure(plot_speedup(arms), figure)
    question = ("how many steps does each preset need to generalize with and without "
                + ", ".join(ACCELERATORS[a].description for a in spec.accelerators) + "?")
    return SweepEntry(out.name, question, SPEEDUP_HEADER, rows, findings, (figure,), kind="Accelerators")


def _section(folder: Path, runs_dir: Path, figures_dir: Path) -> StudySection:
    return StudySection(speedup_entry(folder, runs_dir, figures_dir), None, frozenset(find_runs(folder)))


SPEEDUP = register(StudyKind("speed-up table", "speedup.json", _section, extendable=True))
