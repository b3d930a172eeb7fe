"""Results in a terminal: numbers with sensible precision, missing values as '-', no Python reprs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from groklab.run.analysis import RunAnalysis


def shown(value: Any) -> str:
    """One value as a person reads it: '-' for missing, 4 significant digits for floats, lists joined."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(shown(item) for item in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{key} {shown(item)}" for key, item in value.items()) or "none"
    return str(value)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def analysis_lines(result: RunAnalysis) -> list[tuple[str, str]]:
    """(label, text) rows of `groklab analyze`: what the run is, its events, final metrics and verdict."""
    a, final = result.analysis, result.analysis.final
    who = (f"{result.preset} ({result.scale or 'custom'}, seed {result.config.seed})" if result.config
           else f"imported {result.source['format']} log" if result.source else "-")
    if result.config and not result.preset:
        who = f"custom config (seed {result.config.seed})"
    delay = "-" if a.grokking_delay is None else f"{a.grokking_delay} steps" + (
        f" ({a.delay_ratio:.1f}x the memorization step)" if a.delay_ratio is not None else "")
    transitions = "; ".join(f"{t['start_step']} to {t['end_step']}" for t in a.transitions) or "none"
    return [
        ("run", str(result.run_dir)), ("preset", who), ("state", result.state), ("outcome", a.outcome),
        ("memorization step", shown(a.memorization_step)), ("generalization step", shown(a.generalization_step)),
        ("grokking delay", delay),
        ("steepest test-loss descent", "-" if a.steepest_test_loss_step is None
         else f"step {a.steepest_test_loss_step}"),
        ("final", f"step {shown(final.get('step'))}: train loss {shown(final.get('train_loss'))}, accuracy "
                  f"{percent(final.get('train_acc'))}; test loss {shown(final.get('test_loss'))}, accuracy "
                  f"{percent(final.get('test_acc'))}"),
        ("test-accuracy transitions", transitions),
        ("verdict", f"{result.verdict.status}: {result.verdict.reason}"),
        *((f"signature: {key}", shown(value)) for key, value in result.signature.items()),
    ]
