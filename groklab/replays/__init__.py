"""Each paper's replay of its original code, one module each, discovered like presets.

A module `<preset>__<original>.py` (the original's name with '-' written '_') holds how that original code's
recording (tests/reference/<preset>/<original>/) maps onto the preset: its split, its weight names, and a `REPLAY`
(groklab.fidelity.Replay). Adding a replay is that file and its recording; listing which originals a preset was
replayed against reads only the file names, so a report does not import torch to say it.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from groklab.fidelity import Replay

SEPARATOR = "__"


def _modules() -> dict[str, str]:
    """'<preset>/<original>' -> the name of its module, from the module names alone (nothing is imported)."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        preset, separator, original = info.name.partition(SEPARATOR)
        if separator:
            found[f"{preset}/{original.replace('_', '-')}"] = info.name
    return found


def replay_keys() -> list[str]:
    """Every replay as '<preset>/<original>' (nothing is imported)."""
    return sorted(_modules())


def replays() -> dict[str, Replay]:
    """'<preset>/<original>' -> its Replay, importing every replay module."""
    found = {}
    for key, module in sorted(_modules().items()):
        replay = importlib.import_module(f"{__name__}.{module}").REPLAY
        if replay.preset != key.split("/")[0]:
            raise ValueError(f"the replay {key} is of preset {replay.preset}: its module name must begin with it")
        found[key] = replay
    return found


def fidelity_line(preset: str) -> str:
    """One sentence for the report: which original code the preset was replayed against, and where to read
    the numbers."""
    originals = [key.split("/", 1)[1] for key in replay_keys() if key.split("/", 1)[0] == preset]
    if not originals:
        return f"not yet replayed against its paper's code (docs/fidelity.md, row {preset})"
    return (f"replayed step by step against the recorded split, weights and losses of {' and '.join(originals)} "
            f"(docs/fidelity.md, row {preset})")
