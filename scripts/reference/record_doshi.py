"""Record d-doshi/Grokking's quadratic MLP on modular addition (the model family of Gromov 2023 and Doshi et al.
2024): split, initial weights, per-step training loss and test loss and accuracies.

Run outside the repository, in a venv with torch, numpy and ml_collections:

    git archive of d-doshi/Grokking at 0b4335f utils -> SRC/utils
    VENV/bin/python scripts/reference/record_doshi.py --src SRC --out tests/reference/doshi2024_polynomials/doshi

Its own `noisy_dataset`, `fcn` and `train_one_epoch_grokking` run with the settings of its label-corruption
notebook's clean case (Notebooks/Grokking_with_label_corruption.ipynb, cells 2-3: p 97, half of the table for
training, no label noise, width 500, MSE, AdamW lr 1e-2, betas (0.9, 0.98), weight decay 5, full batch) and the
model seed of its phase-diagram scripts (torch.manual_seed(1)). utils/models.py imports timm's
`param_groups_weight_decay`, which none of these functions call; timm needs a torchvision built for this torch,
which no registry here serves, so a stand-in module provides the name.
"""

from __future__ import annotations

import sys
import time
import types

import numpy as np
from recording import base_parser, save_reference

COMMIT = "0b4335f7b64d1417e27968f02ed9b50e9ef3581f"


def stand_in_timm() -> None:
    """Provide `timm.optim.optim_factory.param_groups_weight_decay` (imported by utils/models.py, never called
    on the fcn path) without timm."""
    factory = types.ModuleType("timm.optim.optim_factory")

    def param_groups_weight_decay(*_, **__):
        raise RuntimeError("the timm stand-in only provides an import")

    factory.param_groups_weight_decay = param_groups_weight_decay
    sys.modules |= {"timm": types.ModuleType("timm"), "timm.optim": types.ModuleType("timm.optim"),
                    "timm.optim.optim_factory": factory}


def main() -> None:
    parser = base_parser(seed=1, threads=1)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--weight-decay", type=float, default=5.0)
    opts = parser.parse_args()

    sys.path.insert(0, str(opts.src))
    stand_in_timm()
    import random

    import torch
    from torch import optim
    from utils.datasets import noisy_dataset  # the original modules, unchanged
    from utils.models import fcn
    from utils.optimization import train_one_epoch_grokking

    torch.set_num_threads(opts.threads)
    p, width, dtype, device = 97, 500, torch.float32, torch.device("cpu")
    random.seed(0)
    data = noisy_dataset(p, 420, 0.5, 0.0, device, dtype, operation="addition", fixed_seed=True)
    torch.manual_seed(opts.seed)
    model = fcn(2 * p, width, p, dp=0.0)
    initial = {k: v.detach().clone().numpy() for k, v in model.state_dict().items()}
    optimizer = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=opts.weight_decay, betas=(0.9, 0.98),
                            eps=1e-08)
    losses, test_losses, train_accs, test_accs = [], [], [], []
    t0 = time.perf_counter()
    for _ in range(opts.steps):
        step = train_one_epoch_grokking(model, optimizer, 10**10, data["X_train"], data["Y_train"],
                                        data["X_test"], data["Y_test"], dtype, device, losstype="MSE",
                                        if_data=True, verbose=False)
        losses.append(float(step["loss"][-1]))
        test_losses.append(step["val_loss"][-1])
        train_accs.append(step["tr_acc"][-1])
        test_accs.append(step["val_acc"][-1])
    wall = time.perf_counter() - t0
    pairs = data["X_train"].argmax(-1).numpy(), data["X_test"].argmax(-1).numpy()
    first_100 = next((i + 1 for i, a in enumerate(test_accs) if a >= 1.0), None)
    save_reference(opts.out, {
        "train_pairs": pairs[0].astype(np.int16), "test_pairs": pairs[1].astype(np.int16),
        "train_labels": data["Y_train"].numpy().astype(np.int16),
        "step_loss": np.array(losses), "step_test_loss": np.array(test_losses),
        "step_train_acc": np.array(train_accs), "step_test_acc": np.array(test_accs),
        **{f"init/{k}": v for k, v in initial.items()},
    }, {
        "repository": "d-doshi/Grokking", "commit": COMMIT,
        "command": " ".join(["record_doshi.py", *sys.argv[1:]]), "seed": opts.seed, "threads": opts.threads,
        "steps_run": opts.steps, "weight_decay": opts.weight_decay, "wall_s": round(wall, 1),
        "first_step_test_acc_1": first_100,
        "recorded": "split (pairs (a, b) in the code's shuffled order, pair_seed 420), training labels, initial "
                    "fc1/fc2 weights, and for every full-batch step: the training loss (before the update), the "
                    "test loss and both accuracies (after the update)",
    })


if __name__ == "__main__":
    main()
