"""Steps per second and time-to-grok of a preset scale on this machine (run by hand).

    .venv/bin/python benchmarks/time_to_grok.py nanda2023 power2022 --scale canonical --seeds 0
    python benchmarks/time_to_grok.py nanda2023 power2022 --device cuda     # on a GPU
    python benchmarks/time_to_grok.py nanda2023 power2022 --device cuda --cuda-graph   # steps as CUDA graphs

For each preset: the median optimizer-step time over `--timing-steps` steps (no evaluation), the step's
floating-point work (torch.utils.flop_counter) as achieved GFLOP/s and as a share of an fp32 matmul ceiling
measured in the same run, then a full run with `train.stop_at_test_acc` (default 0.99) that reports the step
and wall time at which test accuracy first reached it. Results are printed as a Markdown table and saved as
JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from common import machine, now
from torch.utils.flop_counter import FlopCounterMode

from groklab import api
from groklab.train.cuda_graph import stepper
from groklab.train.trainer import set_up


def step_times(cfg, n_steps: int, device: torch.device) -> list[float]:
    """Wall time of each of `n_steps` optimizer steps (the trainer's own step, replayed as a CUDA graph under
    train.cuda_graph) after 5 warm-up steps."""
    _, training = set_up(cfg, device)
    steps = stepper(training, cfg, device)
    times = []
    for step in range(n_steps + 5):
        t0 = now(device)
        steps.step(step)
        if step >= 5:
            times.append(now(device) - t0)
    return times


def step_gflop(cfg) -> float:
    """Floating-point work of one optimizer step (forward and backward matmuls, convolutions and attention),
    counted by torch.utils.flop_counter on the trainer's own step."""
    _, training = set_up(cfg, torch.device("cpu"))
    with FlopCounterMode(display=False) as counter:
        training.step(0)
    return counter.get_total_flops() / 1e9


def matmul_ceiling_gflops(device: torch.device, repeats: int = 5) -> float:
    """fp32 matmul throughput of this device now (on CPU: the same threads the training uses)."""
    size = 8192 if device.type == "cuda" else 2048
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    a @ b
    t0 = now(device)
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (now(device) - t0) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("presets", nargs="+")
    parser.add_argument("--scale", default="canonical")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--target", type=float, default=0.99, help="test accuracy that counts as grokked")
    parser.add_argument("--timing-steps", type=int, default=50)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--cuda-graph", action="store_true", help="train.cuda_graph=true (CUDA only)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    device = torch.device(args.device)

    rows = []
    for name in args.presets:
        for seed in args.seeds:
            cfg = api.resolve(name, args.scale, seed=seed, device=args.device,
                              overrides=[f"train.stop_at_test_acc={args.target}",
                                         f"train.cuda_graph={str(args.cuda_graph).lower()}"])
            ceiling = matmul_ceiling_gflops(device)
            median_ms = 1000 * statistics.median(step_times(cfg, args.timing_steps, device))
            achieved = step_gflop(cfg) / (median_ms / 1000)
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                handle = api.run(cfg, Path(tmp) / "run", show_progress=False)
                wall = time.perf_counter() - t0
            final = handle.result.analysis.final
            reached = final["test_acc"] >= args.target
            rows.append({"preset": name, "scale": args.scale, "seed": seed, "device": args.device,
                         "cuda_graph": args.cuda_graph,
                         "step_ms_median": round(median_ms, 2),
                         "steps_per_s": round(1000 / median_ms, 1), "achieved_gflops": round(achieved, 1),
                         "share_of_ceiling": round(achieved / ceiling, 3), "matmul_gflops": round(ceiling),
                         "grok_step": final["step"] if reached else None,
                         "time_to_grok_s": round(wall, 1) if reached else None, "final_test_acc": final["test_acc"]})
            print(json.dumps(rows[-1]), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    record = {"machine": machine(device), "rows": rows}
    (args.out / f"time_to_grok-{args.device}-{stamp}.json").write_text(json.dumps(record, indent=1))
    print(f"\nmachine: {machine(device)}\n")
    print(f"| preset | scale | seed | median step (ms) | steps/s | step at {args.target:.0%} test | "
          "time-to-grok (s) | achieved GFLOP/s | share of ceiling | fp32 matmul GFLOP/s (ceiling) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['preset']} | {r['scale']} | {r['seed']} | {r['step_ms_median']} | {r['steps_per_s']} | "
              f"{r['grok_step']} | {r['time_to_grok_s']} | {r['achieved_gflops']} | {r['share_of_ceiling']:.0%} | "
              f"{r['matmul_gflops']} |")


if __name__ == "__main__":
    main()
