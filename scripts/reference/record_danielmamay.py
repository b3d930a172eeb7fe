"""Record danielmamay/grokking (current main) on x/y mod 97: split, initial weights, batch order, per-step losses.

Run outside the repository, in a venv with that repository's requirements (torch, einops, numpy, tqdm):

    git archive of danielmamay/grokking at 9988f8d -> SRC (the folder holding data.py, model.py, training.py)
    VENV/bin/python scripts/reference/record_danielmamay.py --src SRC/grokking --out tests/reference/power2022

The code sets no seed; torch.manual_seed(seed) is called before its main(). Its own `main(args)` runs with
the defaults of its cli.py (x/y, p 97, 50%, 2 layers, width 128, 4 heads, batch 512, lr 1e-3, wd 1) on the CPU.
The run stops once validation accuracy reaches --stop-acc at one of its evaluations (steps 1, 10 and every 100).
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from argparse import Namespace

import numpy as np
from recording import StopTraining, base_parser, fake_wandb, save_reference

COMMIT = "9988f8d42bb1edcb54ae7c584cea46dcced16721"


def main() -> None:
    parser = base_parser(seed=0, threads=2)
    parser.add_argument("--record-batches", type=int, default=300, help="steps whose batch rows are kept")
    parser.add_argument("--stop-acc", type=float, default=0.99)
    opts = parser.parse_args()

    evals: list[dict] = []

    def on_log(data, step):
        evals.append({"step": step, **data, "elapsed_s": time.perf_counter() - t0})
        print(f"step {step}: train acc {data['training/accuracy']:.3f} val acc {data['validation/accuracy']:.3f}",
              flush=True)
        if data["validation/accuracy"] >= opts.stop_acc:
            raise StopTraining

    fake_wandb(on_log)
    sys.path.insert(0, str(opts.src))
    import torch
    import training  # the original module, unchanged

    torch.set_num_threads(opts.threads)
    seen: dict = {}
    losses, batches, step_times = [], [], []
    original_load, original_setup, original_step = training.load_data, training.setup_model, training.train_step

    def load_data(*a, **k):
        seen["data"] = original_load(*a, **k)
        return seen["data"]

    def setup_model(*a, **k):
        built = original_setup(*a, **k)
        seen["init"] = {n: v.detach().clone() for n, v in built[0].state_dict().items()}
        return built

    def train_step(model, inputs, labels, optimizer, criterion):
        def recording_criterion(output, target):
            loss = criterion(output, target)
            losses.append(loss.item())
            return loss

        if len(batches) < opts.record_batches:
            batches.append(inputs.clone())
        start = time.perf_counter()
        original_step(model, inputs, labels, optimizer, recording_criterion)
        step_times.append(time.perf_counter() - start)

    training.load_data, training.setup_model, training.train_step = load_data, setup_model, train_step
    args = Namespace(operation="x/y", training_fraction=0.5, prime=97, num_layers=2, dim_model=128, num_heads=4,
                     batch_size=512, learning_rate=1e-3, weight_decay=1.0, num_steps=100_000, device="cpu")
    torch.manual_seed(opts.seed)
    t0 = time.perf_counter()
    with contextlib.suppress(StopTraining):
        training.main(args)
    wall = time.perf_counter() - t0

    train_x, train_y, val_x, val_y, _ = seen["data"]
    row_of = {tuple(r): i for i, r in enumerate(train_x.tolist())}
    batch_rows = [np.array([row_of[tuple(r)] for r in b.tolist()], dtype=np.int16) for b in batches]
    arrays = {
        "train_inputs": train_x.numpy().astype(np.int16), "train_labels": train_y.numpy().astype(np.int16),
        "test_inputs": val_x.numpy().astype(np.int16), "test_labels": val_y.numpy().astype(np.int16),
        "batch_rows": np.concatenate(batch_rows or [np.zeros(0, np.int16)]),
        "batch_sizes": np.array([len(b) for b in batch_rows], dtype=np.int64),
        "step_loss": np.array(losses),
        **{f"eval_{k.replace('/', '_')}": np.array([e[k] for e in evals])
           for k in ("step", "training/loss", "training/accuracy", "validation/loss", "validation/accuracy",
                     "elapsed_s")},
        **{f"init/{n}": v.numpy() for n, v in seen["init"].items() if not n.endswith("attn_mask")},
    }
    reached = evals[-1]["step"] if evals and evals[-1]["validation/accuracy"] >= opts.stop_acc else None
    save_reference(opts.out, arrays, {
        "repository": "danielmamay/grokking", "commit": COMMIT,
        "command": " ".join(["record_danielmamay.py", *sys.argv[1:]]), "seed": opts.seed, "threads": opts.threads,
        "steps_run": len(losses), "test_acc_threshold": opts.stop_acc, "threshold_step": reached,
        "wall_s": round(wall, 1), "median_step_s": statistics.median(step_times),
        "recorded": "split (inputs [x*y, op=98, y, eq=97] and labels x, in the code's row order), initial "
                    "state_dict, batch rows of the first steps, training loss of every step, the code's "
                    "evaluations (steps 1, 10, every 100) of both splits",
    })


if __name__ == "__main__":
    main()
