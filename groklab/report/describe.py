"""A run described in words, once, for the terminal and the report: numbers with sensible precision, missing
values as '-', no Python reprs."""

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


FLOAT32_RESOLUTION = 1.2e-7  # float32 epsilon: a softmax cannot resolve a per-sample loss much below it


def describe_run(result: RunAnalysis, note: str = "") -> list[tuple[str, str]]:
    """(label, text) rows describing one analyzed run, as `groklab analyze` prints them and the report lists
    them: what it is, its state (with `note`, what the run folder says beyond it), events, final metrics,
    diagnosis, verdict, signature and what its history lacked."""
    a, final, cfg = result.analysis, result.analysis.final, result.config
    if cfg is None:
        who = f"imported {result.source['format']} log {result.source['path']}" if result.source else "-"
    else:
        who = (f"{result.preset} ({result.scale or 'custom'})" if result.preset else "custom config") + (
            f": task {cfg.task.describe()}; {cfg.model.name}; {cfg.optim.name} lr {cfg.optim.lr:g} weight decay "
            f"{cfg.optim.weight_decay:g}; {cfg.train.steps} steps, seed {cfg.seed}")
    delay = "-" if a.grokking_delay is None else f"{a.grokking_delay} steps" + (
        f" ({a.delay_ratio:.1f}x the memorization step)" if a.delay_ratio is not None else "")
    transitions = "; ".join(f"{t['start_step']} to {t['end_step']} ({percent(t['from_acc'])} to "
                            f"{percent(t['to_acc'])})" for t in a.transitions) or "none"
    lines = [
        ("run", str(result.run_dir)), ("preset", who), ("state", result.state + (f" ({note})" if note else "")),
        ("outcome", a.outcome),
        ("memorization step", shown(a.memorization_step)), ("generalization step", shown(a.generalization_step)),
        ("grokking delay", delay),
        ("steepest test-loss descent", "-" if a.steepest_test_loss_step is None
         else f"step {a.steepest_test_loss_step}"),
        ("final", f"step {shown(final.get('step'))}: train loss {shown(final.get('train_loss'))}, accuracy "
                  f"{percent(final.get('train_acc'))}; test loss {shown(final.get('test_loss'))}, accuracy "
                  f"{percent(final.get('test_acc'))}"),
        ("test-accuracy transitions", transitions),
        ("diagnosis", result.diagnosis.summary),
        *(("evidence", line) for line in result.diagnosis.evidence),
        *(("next step", line) for line in result.diagnosis.suggestions),
        ("verdict", f"{result.verdict.status}: {result.verdict.reason}"),
        *_slingshot_lines(result),
        *((f"signature: {key}", shown(value)) for key, value in result.signature.items()),
    ]
    if a.problems:  # what the history lacked or had set right, and what the figures could not draw
        lines.append(("partial" if a.partial else "notes", "; ".join(a.problems)))
    return lines


def _slingshot_lines(result: RunAnalysis) -> list[tuple[str, str]]:
    """The Slingshot cycles found, and whether float32 rounding may have made them."""
    cycles, cfg = result.analysis.slingshots, result.config
    if cycles is None:
        return []
    lines = [("slingshots", f"{len(cycles)} cycles" + "".join(
        f"; spike at step {c['spike_step']} (loss {c['baseline_loss']:.2g} to {c['peak_loss']:.2g}, norm +"
        f"{c['norm_growth']:.1%} before, {'plateau' if c['plateau'] else 'no plateau'} after"
        f"{', with a test-accuracy jump' if c['test_jump'] else ''})" for c in cycles))]
    if cfg is not None and cfg.train.loss_dtype != "float64" and any(
            c["baseline_loss"] < FLOAT32_RESOLUTION for c in cycles):
        lines.append(("slingshot caveat", f"spikes start from a training loss below {cfg.train.loss_dtype}'s "
                      "resolution of a softmax: they may be softmax collapse (Prieto et al. 2025) rather than "
                      "Adam's Slingshot; rerun with train.loss_dtype=float64 to tell them apart (the "
                      "thilak2022_slingshot quick run has 4 cycles in float32 and none in float64)"))
    return lines
