"""Record LucasPrietoAl/grokking-at-the-edge-of-numerical-stability's grokking_experiments.py (Prieto et al.
2025), Figure 1's StableMax row: split, initial weights and the training loss of every full-batch step.

Run outside the repository, in a venv with torch, numpy and pandas (what its logger.py imports); datasets.py
imports torchvision for MNIST datasets it does not use here, so a stand-in module provides the import. The
script writes its checkpoints and logs into the current directory, so it runs in a scratch folder:

    git archive of LucasPrietoAl/grokking-at-the-edge-of-numerical-stability at 0cc9e8d -> SRC
    VENV/bin/python scripts/reference/record_stablemax.py --src SRC \
        --out tests/reference/prieto2025_stablemax/grokking-at-the-edge --steps 2000

The script itself runs (runpy) with run_main_experiments.sh's Figure 1 StableMax arguments (--lr 0.01
--train_fraction 0.4 --loss_function stablemax --beta2 0.999, its defaults otherwise: seed 42, AdamW eps 1e-25,
MLP 226-200-200-113 without biases, full batch) and --num_epochs set to --steps. From outside, utils.get_dataset,
utils.get_model and utils.stablemax_cross_entropy are wrapped (before the script imports them) to see the split,
the initial weights and each training step's loss (the calls whose logits carry gradients).
"""

from __future__ import annotations

import os
import runpy
import sys
import time

import numpy as np
from recording import base_parser, save_reference, stand_in_torchvision

COMMIT = "0cc9e8dc62ce5ed66d29d80eebbaf14da2f71c67"
FIGURE_1_STABLEMAX = ["--lr", "0.01", "--train_fraction", "0.4", "--loss_function", "stablemax", "--beta2", "0.999",
                      "--device", "cpu"]


def main() -> None:
    parser = base_parser(seed=42)  # the script sets 5 threads itself
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--scratch", default="/tmp/stablemax_scratch", help="the script's working directory")
    opts = parser.parse_args()
    command = " ".join(["record_stablemax.py", *sys.argv[1:]])

    sys.path.insert(0, str(opts.src))
    import torch

    stand_in_torchvision()  # datasets.py imports it for its MNIST datasets, not used here
    import utils  # the original module, unchanged

    seen: dict = {"loss": []}
    original = {name: getattr(utils, name) for name in ("get_dataset", "get_model", "stablemax_cross_entropy")}

    def get_dataset(args):
        train, test = original["get_dataset"](args)
        seen["train"], seen["test"], seen["p"] = np.array(train.indices), np.array(test.indices), args.input_size
        return train, test

    def get_model(args):
        model = original["get_model"](args)
        seen["init"] = {k: v.detach().clone().numpy() for k, v in model.state_dict().items()}
        return model

    def stablemax_cross_entropy(logits, labels, reduction="mean"):
        loss = original["stablemax_cross_entropy"](logits, labels, reduction)
        if logits.requires_grad:
            seen["loss"].append(loss.item())
        return loss

    utils.get_dataset, utils.get_model, utils.stablemax_cross_entropy = get_dataset, get_model, stablemax_cross_entropy
    os.makedirs(opts.scratch, exist_ok=True)
    os.chdir(opts.scratch)
    sys.argv = ["grokking_experiments.py", *FIGURE_1_STABLEMAX, "--num_epochs", str(opts.steps),
                "--log_frequency", "500", "--seed", str(opts.seed)]
    t0 = time.perf_counter()
    runpy.run_path(str(opts.src / "grokking_experiments.py"), run_name="__main__")
    wall = time.perf_counter() - t0
    p = seen["p"]

    def pairs(rows):
        return np.stack([rows // p, rows % p], 1).astype(np.int16)

    save_reference(opts.out, {
        "train_pairs": pairs(seen["train"]), "test_pairs": pairs(seen["test"]),
        "step_loss": np.array(seen["loss"]), **{f"init/{k}": v for k, v in seen["init"].items()},
    }, {
        "repository": "LucasPrietoAl/grokking-at-the-edge-of-numerical-stability", "commit": COMMIT,
        "command": command, "script_argv": sys.argv[1:],
        "seed": opts.seed, "threads": torch.get_num_threads(), "steps_run": len(seen["loss"]),
        "wall_s": round(wall, 1),
        "recorded": "split (pairs (a, b) from the code's random_split indices, in its order), initial weights of "
                    "its MLP (layers.0-2, no biases), the StableMax training loss of every full-batch step (the "
                    "code shuffles the full batch every step; the sum is the same up to rounding)",
    })


if __name__ == "__main__":
    main()
