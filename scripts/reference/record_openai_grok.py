"""Record openai/grok (the paper's own code) on x/y mod 97: split, initial weights, batch order, per-step losses.

Run outside the repository, in a venv that its 2021 code imports in: torch 2.13.0, pytorch-lightning 1.2.10 (the
last release that still lets a LightningModule assign `self.hparams`), numpy<2 (that Lightning uses `np.Inf`),
setuptools<70 (it imports pkg_resources), blobfile, mod, sympy, scipy, matplotlib, tqdm:

    git archive of openai/grok at 3d64b1d -> SRC (the folder holding grok/ and scripts/)
    VENV/bin/python scripts/reference/record_openai_grok.py --src SRC --out tests/reference/power2022/openai-grok

Its own `grok.training.train(hparams)` runs with `scripts/train.py`'s parser and the paper's text where the
parser's defaults differ (`--math_operator / --train_data_pct 50 --weight_decay 1`; defaults: batch
min(512, half the training set), lr 1e-3 after a 10-step linear warmup from 0, betas (0.9, 0.98), ReLU, 2
layers, width 128, 4 heads) on the CPU (`--gpu -1`), seeded with its own `--random_seed`. The run stops at the
first of its validations (one per evaluated epoch, on a schedule growing 2% per evaluation) that reaches
--stop-acc.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time

import numpy as np
from recording import StopTraining, base_parser, save_reference

COMMIT = "3d64b1d8c1d595dd8ebdb7771998823f1b14c7b3"


def main() -> None:
    parser = base_parser(seed=0, threads=2)
    parser.add_argument("--record-batches", type=int, default=300, help="steps whose batch rows are kept")
    parser.add_argument("--stop-acc", type=float, default=0.99)
    opts = parser.parse_args()

    sys.path.insert(0, str(opts.src))
    import torch
    from grok import training  # the original module, unchanged

    torch.set_num_threads(opts.threads)
    module = training.TrainableTransformer
    seen: dict = {}
    losses, batches, evals, step_times = [], [], [], []
    original_init, original_step = module.__init__, module.training_step
    original_val_end = module.validation_epoch_end

    def init(self, hparams):
        original_init(self, hparams)
        seen["init"] = {n: v.detach().clone() for n, v in self.state_dict().items()}
        seen["train"], seen["test"] = self.train_dataset.data.clone(), self.val_dataset.data.clone()

    def training_step(self, batch, batch_idx):
        if len(batches) < opts.record_batches:
            batches.append(batch["text"].clone())
        start = time.perf_counter()
        output = original_step(self, batch, batch_idx)
        step_times.append(time.perf_counter() - start)
        losses.append(output["loss"].item())
        return output

    def validation_epoch_end(self, outputs):
        logs = original_val_end(self, outputs)
        if logs:
            row = {"step": len(losses), "elapsed_s": time.perf_counter() - t0,
                   **{k: float(logs[k]) for k in ("val_loss", "val_accuracy", "full_train_loss", "full_train_acc")}}
            evals.append(row)
            print(f"step {row['step']}: train acc {row['full_train_acc']:.1f}% val acc {row['val_accuracy']:.1f}%",
                  flush=True)
            if row["val_accuracy"] >= 100 * opts.stop_acc:
                raise StopTraining
        return logs

    module.__init__, module.training_step, module.validation_epoch_end = init, training_step, validation_epoch_end
    hparams = training.add_args().parse_args([
        "--random_seed", str(opts.seed), "--gpu", "-1", "--math_operator", "/", "--train_data_pct", "50",
        "--weight_decay", "1"])
    workdir = tempfile.mkdtemp(prefix="openai-grok-")
    hparams.datadir, hparams.logdir = os.path.join(workdir, "data"), workdir
    t0 = time.perf_counter()
    with contextlib.suppress(StopTraining):
        training.train(hparams)
    wall = time.perf_counter() - t0

    train = seen["train"]
    row_of = {tuple(r): i for i, r in enumerate(train[:, :-1].tolist())}
    batch_rows = [np.array([row_of[tuple(r)] for r in b.tolist()], dtype=np.int16) for b in batches]
    arrays = {
        "train_tokens": train.numpy().astype(np.int16), "test_tokens": seen["test"].numpy().astype(np.int16),
        "batch_rows": np.concatenate(batch_rows or [np.zeros(0, np.int16)]),
        "batch_sizes": np.array([len(b) for b in batch_rows], dtype=np.int64),
        "step_loss": np.array(losses),
        **{f"eval_{k}": np.array([e[k] for e in evals])
           for k in ("step", "val_loss", "val_accuracy", "full_train_loss", "full_train_acc", "elapsed_s")},
        **{f"init/{n}": v.numpy() for n, v in seen["init"].items() if not n.endswith("attn_mask")},
    }
    reached = evals[-1]["step"] if evals and evals[-1]["val_accuracy"] >= 100 * opts.stop_acc else None
    save_reference(opts.out, arrays, {
        "repository": "openai/grok", "commit": COMMIT,
        "command": " ".join(["record_openai_grok.py", *sys.argv[1:]]), "seed": opts.seed, "threads": opts.threads,
        "hparams": {k: v for k, v in vars(hparams).items() if isinstance(v, (int, float, str, bool, type(None)))},
        "steps_run": len(losses), "test_acc_threshold": opts.stop_acc, "threshold_step": reached,
        "wall_s": round(wall, 1), "median_step_s": statistics.median(step_times),
        "recorded": "split (token rows <eos> x op y = c <eos> over its 239-token vocabulary, in the code's row "
                    "order), initial state_dict, batch rows of the first steps, training loss (the mean over the "
                    "answer and the closing <eos>) of every step, the code's validations with full-training-set "
                    "loss and accuracy (percent)",
    })


if __name__ == "__main__":
    main()
