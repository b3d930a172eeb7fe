"""Record KindXiaoming/Omnigrok's MNIST grokking notebook (mnist/grokking/mnist-grokking.ipynb, Liu et al. 2022):
initial weights, each step's batch of training rows and per-step training loss.

Run outside the repository, in a venv with torch, numpy, tqdm and matplotlib:

    git archive of KindXiaoming/Omnigrok at 3a0a573 mnist/grokking/mnist-grokking.ipynb -> SRC
    VENV/bin/python scripts/reference/record_omnigrok.py --src SRC/mnist/grokking/mnist-grokking.ipynb \
        --mnist ~/.cache/groklab/mnist.npz --out tests/reference/liu2022_omnigrok/omnigrok --steps 300

The notebook's own code cells (imports, helpers, hyperparameters, the training cell) run in order, unchanged,
with its hyperparameters (1000 training images, MSE, AdamW lr 1e-3 wd 0.01, alpha 8, width 200, depth 3, batch
200, float64, seed 0); the training cell is stopped after --steps updates. It loads MNIST through
torchvision.datasets.MNIST(download=True), which cannot download here and whose torchvision does not import
beside this torch, so a stand-in `torchvision` serves the same real MNIST (groklab's verified cache, the
canonical order) with torchvision's ToTensor semantics (uint8 [28, 28] -> [1, 28, 28] in the default dtype,
divided by 255). From outside, torch's BatchSampler and MSELoss are wrapped to see each training batch's rows
(batches of 200; the notebook's evaluation loaders use 50) and each step's training loss (reduction 'mean').
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from recording import StopTraining, base_parser, save_reference, stand_in_torchvision, watch_minibatch_mse

COMMIT = "3a0a57346230a7255e5390fcd565812d00f1a281"
CELLS = (3, 4, 5, 7, 9)  # imports, helpers, dictionaries, hyperparameters, training
TRAIN_BATCH = 200


def main() -> None:
    parser = base_parser(seed=0, threads=1)
    parser.add_argument("--mnist", type=Path, required=True, help="an npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--steps", type=int, default=300)
    opts = parser.parse_args()

    import torch

    torch.set_num_threads(opts.threads)
    stand_in_torchvision(opts.mnist)
    namespace: dict = {"__name__": "__main__"}
    initial: dict = {}

    def take_initial():  # the training cell has built and scaled the model: take its weights
        initial.update({k: v.detach().clone().numpy() for k, v in namespace["mlp"].state_dict().items()})

    seen = watch_minibatch_mse(TRAIN_BATCH, opts.steps, take_initial)
    cells = json.loads(opts.src.read_text())["cells"]
    t0 = time.perf_counter()
    for index in CELLS:
        try:
            exec(compile("".join(cells[index]["source"]), f"cell {index}", "exec"), namespace)
        except StopTraining:
            break
    wall = time.perf_counter() - t0
    steps = opts.steps
    save_reference(opts.out, {
        "batch_rows": np.concatenate(seen["batches"][:steps]).astype(np.int16),
        "batch_sizes": np.array([len(b) for b in seen["batches"][:steps]], dtype=np.int64),
        "step_loss": np.array(seen["loss"][:steps]), **{f"init/{k}": v for k, v in initial.items()},
    }, {
        "repository": "KindXiaoming/Omnigrok", "commit": COMMIT, "notebook": "mnist/grokking/mnist-grokking.ipynb",
        "cells_run": list(CELLS), "command": " ".join(["record_omnigrok.py", *sys.argv[1:]]), "seed": opts.seed,
        "threads": opts.threads, "steps_run": steps, "wall_s": round(wall, 1),
        "recorded": "initial weights of its nn.Sequential (after the alpha = 8 scaling; index 0 is Flatten), the "
                    "rows (into the first 1000 training images) of each step's batch, and each step's MSE training "
                    "loss, all in float64 as the notebook computes; the training images are the first 1000 in "
                    "MNIST's canonical order (Subset(train, range(1000)))",
    })


if __name__ == "__main__":
    main()
