"""Whether each preset's `quick_seconds` (what `groklab suite` and `make demo` announce their duration from) still
holds: the quick scales trained two at a time, as the suite trains them, and each run's training time compared
with its preset's number. A preset off by more than 3x needs its number measured again.

    .venv/bin/python benchmarks/quick_seconds.py                # trains the suite's quick scales (about 8 min)
    .venv/bin/python benchmarks/quick_seconds.py --runs DIR     # reads a suite folder already trained (make demo's)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from common import machine, save_result

from groklab import api
from groklab.common.run_folder import find_runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, help="a suite folder of quick runs (default: train one)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    opts = parser.parse_args()
    runs = opts.runs or Path(tempfile.mkdtemp(prefix="quick-seconds-")) / "suite"
    if opts.runs is None:
        subprocess.run([sys.executable, "-m", "groklab.cli", "suite", "--out", str(runs)], check=True)
    measured = {}
    for folder in find_runs(runs):
        result = api.analyze(folder, write=False)
        if result.scale == "quick" and result.history.records:
            measured.setdefault(result.preset, result.history.records[-1]["elapsed_s"])
    rows, off = {}, []
    for preset in api.presets():
        elapsed = measured.get(preset.id)
        ratio = None if elapsed is None else elapsed / preset.quick_seconds
        rows[preset.id] = {"quick_seconds": preset.quick_seconds, "measured_s": elapsed, "ratio": ratio}
        print(f"{preset.id:24s} kept {preset.quick_seconds:5d} s  measured "
              f"{'-' if elapsed is None else f'{elapsed:6.0f} s  ratio {ratio:.2f}'}")
        if ratio is not None and not 1 / 3 <= ratio <= 3:
            off.append(preset.id)
    print(f"off by more than 3x: {', '.join(off) or 'none'}")
    save_result(opts.out, "quick_seconds", {"machine": machine(torch.device("cpu")), "runs": str(runs),
                                            "presets": rows, "off": off})


if __name__ == "__main__":
    main()
