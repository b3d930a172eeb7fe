"""Record the progress-measures-paper Trainer (Nanda et al. 2023) on x+y mod 113: split, initial weights and the
training and test loss of every step, with both accuracies every 100 steps.

Run outside the repository, in a venv with torch, einops, numpy, tqdm, matplotlib, plotly and pandas (what its
helpers.py imports); wandb is replaced by a stand-in that only records:

    git archive of mechanistic-interpretability-grokking/progress-measures-paper at 23d2c64 transformers.py
        helpers.py -> SRC/pmp   (imported as the namespace package `pmp`, so its `from . import helpers` works)
    VENV/bin/python scripts/reference/record_progress_measures.py --src SRC --out tests/reference/nanda2023

Its own `train_model(Config(...))` runs with the Config defaults (seed 0, lr 1e-3, wd 1, 30%, d_model 128,
ReLU, full batch) on the CPU, for --steps epochs (full-batch steps); the key-frequency metrics that the code
takes every 1000 epochs are taken only at epoch 0 (they do not touch training); --stop-test-loss ends the run
at the first of the code's saves (every 100 epochs) below that test loss, --stop-test-acc at the first whose
test accuracy reaches it. torch.manual_seed(seed) is
called first: the code seeds its split (random.seed) but not its initial weights.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time

import numpy as np
from recording import StopTraining, base_parser, fake_wandb, save_reference

COMMIT = "23d2c64dd1f8a5ca65efaf27e15c2b2cd47dedf1"


def main() -> None:
    parser = base_parser(seed=0, threads=2)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--stop-test-loss", type=float, default=None,
                        help="stop at the first save (every 100 epochs) whose test loss is below this")
    parser.add_argument("--stop-test-acc", type=float, default=None,
                        help="stop at the first save (every 100 epochs) whose test accuracy reaches this")
    opts = parser.parse_args()

    seen: dict = {"acc": []}

    def on_log(data, step):
        if "train_losses" in data:  # post_training_save: everything is recorded, skip its file and plot
            raise StopTraining
        if "epoch" in data and "model" in data:  # save_epoch, every 100 epochs: measure both accuracies
            seen["acc"].append((data["epoch"], *accuracies(), time.perf_counter() - t0))
            epoch, train_acc, test_acc, _ = seen["acc"][-1]
            print(f"epoch {epoch}: train acc {train_acc:.3f} test acc {test_acc:.3f} "
                  f"test loss {data['test_loss']:.3g}", flush=True)
            if opts.stop_test_loss is not None and data["test_loss"] < opts.stop_test_loss:
                raise StopTraining
            if opts.stop_test_acc is not None and test_acc >= opts.stop_test_acc:
                raise StopTraining
            if epoch % 1000 == 0:  # a partial recording, in case the run is stopped before it ends
                write(time.perf_counter() - t0)

    def write(wall):
        world = seen["world"]
        acc = np.array(seen["acc"])
        save_reference(opts.out, {
            "train_pairs": np.array(world.train, dtype=np.int16)[:, :2],
            "test_pairs": np.array(world.test, dtype=np.int16)[:, :2],
            "step_train_loss": np.array(world.train_losses), "step_test_loss": np.array(world.test_losses),
            "acc_step": acc[:, 0].astype(np.int32), "acc_train": acc[:, 1], "acc_test": acc[:, 2],
            "acc_elapsed_s": acc[:, 3],
            **{f"init/{n}": v.numpy() for n, v in seen["init"].items() if not n.endswith("mask")},
        }, {
            "repository": "mechanistic-interpretability-grokking/progress-measures-paper", "commit": COMMIT,
            "command": " ".join(["record_progress_measures.py", *sys.argv[1:]]), "seed": opts.seed,
            "threads": opts.threads, "steps_run": len(world.train_losses), "wall_s": round(wall, 1),
            "median_step_s": statistics.median(seen["step_s"]),
            "recorded": "split (pairs (x, y) of the code's train and test lists, in its order), initial "
                        "state_dict, training and test loss of every step (the code's own lists, computed before "
                        "each update), train and test accuracy every 100 steps (argmax over the code's 114 "
                        "logits)",
        })

    fake_wandb(on_log)
    sys.path.insert(0, str(opts.src))
    import torch
    from pmp import transformers as T  # the original module, unchanged

    torch.set_num_threads(opts.threads)

    def accuracies():
        world, p = seen["world"], seen["world"].config.p
        with torch.no_grad():
            rates = []
            for pairs in (world.train, world.test):
                data = torch.tensor(pairs)
                logits = world.model(data)[:, -1]
                rates.append(float((logits.argmax(-1) == (data[:, 0] + data[:, 1]) % p).float().mean()))
        return rates

    class RecordingTrainer(T.Trainer):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            seen["world"] = self
            seen["init"] = {n: v.detach().clone() for n, v in self.model.state_dict().items()}

        def do_a_training_step(self, epoch):
            start = time.perf_counter()
            out = super().do_a_training_step(epoch)
            seen.setdefault("step_s", []).append(time.perf_counter() - start)
            return out

    T.Trainer = RecordingTrainer
    config = T.Config(seed=opts.seed, num_epochs=opts.steps, take_metrics_every_n_epochs=10**9,
                      device=torch.device("cpu"))
    torch.manual_seed(opts.seed)
    t0 = time.perf_counter()
    with contextlib.suppress(StopTraining):
        T.train_model(config)
    write(time.perf_counter() - t0)


if __name__ == "__main__":
    main()
