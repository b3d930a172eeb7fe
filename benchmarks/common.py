"""What the benchmarks share: the device to time on, synchronized timing, a description of the machine, and where
results are saved."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import torch


def now(device: torch.device) -> float:
    """perf_counter after the device has finished its queued work (CUDA runs asynchronously)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def machine(device: torch.device) -> str:
    """CPU model, torch version and threads, and the GPU when timing on one."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    gpu = f"; GPU {torch.cuda.get_device_name(device)}" if device.type == "cuda" else ""
    return f"{cpu}; torch {torch.__version__}; {torch.get_num_threads()} threads{gpu}; {platform.platform()}"


def save_result(out: Path, name: str, result: dict) -> Path:
    """Write `result` as out/NAME.json and say where."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"saved {path}")
    return path
