"""Shared fixtures: tiny configs that really train in seconds on CPU."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):  # one worker per core: one thread each, for their subprocesses too
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
else:
    torch.set_num_threads(min(2, os.cpu_count() or 1))

# A 1-layer transformer on x+y mod 23 that memorizes, then generalizes: small enough for unit tests.
TINY: dict[str, Any] = {
    "seed": 0,
    "device": "cpu",
    "task": {"name": "modular", "operation": "x+y", "p": 23, "train_frac": 0.5, "format": "x_y_eq"},
    "model": {"name": "transformer", "n_layers": 1, "d_model": 32, "n_heads": 2, "d_mlp": 64,
              "norm": "none", "mlp_bias": True, "init": "nanda"},
    "optim": {"name": "adamw", "lr": 3e-3, "weight_decay": 1.0},
    "train": {"steps": 200, "batch_size": 64, "checkpoint_every": 50},
    "eval": {"every": 10, "log_points": 0},
}


def groklab_cli(*args: str, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would."""
    proc = subprocess.run([sys.executable, "-m", "groklab.cli", *args], capture_output=True, text=True, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"groklab {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


@pytest.fixture
def tiny() -> dict[str, Any]:
    import copy

    return copy.deepcopy(TINY)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist (`make test` runs one worker per core), each test file runs on one worker, so that its
    module fixtures train once; the slow tests share one session's quick runs, so tests/slow is one unit."""
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::")[0]
            return "tests/slow" if path.startswith("tests/slow/") else path

    return ByFile(config, log)
