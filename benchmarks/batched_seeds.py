"""N seeds as one batched computation against one seed (run by hand).

    .venv/bin/python benchmarks/batched_seeds.py nanda2023 --scale quick --seeds 8
    python benchmarks/batched_seeds.py nanda2023 --seeds 8 --device cuda     # on a GPU
    python benchmarks/batched_seeds.py nanda2023 --seeds 64 --device cuda --cuda-graph   # steps as CUDA graphs

Two measurements: the median optimizer-step time of 1 seed and of N stacked seeds (no evaluation), and the
wall time of whole runs: `groklab run PRESET` (1 seed) against `groklab run PRESET --seeds N` (evaluation,
history and checkpoints of every seed included). Prints a Markdown table and saves JSON.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from common import machine, now, save_result

from groklab import api
from groklab.train.batched import StackedTraining
from groklab.train.cuda_graph import stepper
from groklab.train.trainer import set_up


def median_step_s(cfg, seeds: int, n_steps: int, device: torch.device) -> float:
    """Median wall time of one update of `seeds` stacked seeds (1: the normal single-run step)."""
    setups = [set_up(cfg.model_copy(update={"seed": cfg.seed + i}), device) for i in range(seeds)]
    training = setups[0][1] if seeds == 1 else StackedTraining([t for _, t in setups])
    steps = stepper(training, cfg, device)  # replayed as a CUDA graph under train.cuda_graph
    times = []
    for step in range(n_steps + 5):
        start = now(device)
        steps.step(step)
        if step >= 5:
            times.append(now(device) - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("preset")
    parser.add_argument("--scale", default="quick")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--timing-steps", type=int, default=100)
    parser.add_argument("--run-steps", type=int, help="train.steps of the whole-run comparison (default: the scale's)")
    parser.add_argument("--device", default="cpu", help="cpu (2 threads) or cuda")
    parser.add_argument("--cuda-graph", action="store_true", help="train.cuda_graph=true (CUDA only)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(2)
    overrides = [f"device={args.device}", f"train.cuda_graph={str(args.cuda_graph).lower()}"]
    overrides += [f"train.steps={args.run_steps}"] if args.run_steps else []
    cfg = api.resolve(args.preset, args.scale, overrides)
    one = median_step_s(cfg, 1, args.timing_steps, device)
    stacked = median_step_s(cfg, args.seeds, args.timing_steps, device)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        api.run(cfg, Path(tmp) / "single", show_progress=False)
        single_s = time.perf_counter() - start
        start = time.perf_counter()
        api.run_seeds(cfg, args.seeds, Path(tmp) / "batched", show_progress=False)
        batched_s = time.perf_counter() - start
    result = {"preset": cfg.preset, "scale": args.scale, "seeds": args.seeds, "cuda_graph": args.cuda_graph,
              "step_ms_1": one * 1e3,
              f"step_ms_{args.seeds}": stacked * 1e3, "run_s_1": single_s, f"run_s_{args.seeds}": batched_s,
              "cost_ratio_run": batched_s / single_s, "cost_ratio_step": stacked / one,
              "machine": machine(device), "date": time.strftime("%Y-%m-%d %H:%M")}
    print(f"| {cfg.preset} ({args.scale}) | 1 seed | {args.seeds} seeds batched | ratio |\n|---|---|---|---|")
    print(f"| median step (ms) | {one * 1e3:.2f} | {stacked * 1e3:.2f} | {stacked / one:.2f}x |")
    print(f"| whole run (s) | {single_s:.1f} | {batched_s:.1f} | {batched_s / single_s:.2f}x |")
    save_result(args.out, f"batched-{cfg.preset}-{args.scale}-{args.seeds}-{args.device}", result)


if __name__ == "__main__":
    main()
