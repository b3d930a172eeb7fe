"""How fast the commands that neither train nor draw answer: `groklab --help`, `groklab papers`, and `groklab status`
over a folder of many finished run folders (copies of one real run, its checkpoints left out). Each command is
run as a user runs it, a new process each time; the median of --repeats is reported.

    .venv/bin/python benchmarks/cli_startup.py --runs 1000
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from common import machine, save_result

from groklab import api
from groklab.common.run_folder import CHECKPOINTS_DIR


def timed(command: list[str], repeats: int) -> dict[str, float]:
    """Wall seconds of `groklab COMMAND` in a new process, `repeats` times."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "groklab.cli", *command], check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return {"median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        original = Path(tmp) / "original"
        cfg = api.resolve("levi2023_linear", "quick", ["train.steps=40", "device=cpu"])
        api.run(cfg, original, show_progress=False)
        folder = Path(tmp) / "runs"
        for i in range(args.runs):
            shutil.copytree(original, folder / f"run-{i:04d}", ignore=shutil.ignore_patterns(CHECKPOINTS_DIR),
                            copy_function=shutil.copy2)  # copy2 keeps analysis.json newer than the history
        result = {
            "machine": machine(torch.device("cpu")), "runs": args.runs, "repeats": args.repeats,
            "help": timed(["--help"], args.repeats), "papers": timed(["papers"], args.repeats),
            "status": timed(["status", str(folder)], args.repeats),
        }
    for name in ("help", "papers", "status"):
        print(f"groklab {name}: median {result[name]['median_s']:.2f} s (min {result[name]['min_s']:.2f}, "
              f"max {result[name]['max_s']:.2f})")
    save_result(args.out, "cli_startup", result)


if __name__ == "__main__":
    main()
