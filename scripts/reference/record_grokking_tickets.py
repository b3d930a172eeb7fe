"""Record gouki510/Grokking-Tickets' dense modular-addition MLP (train.py with model.py::OnlyMLP, Minegishi et al.
2023): split, initial weights, and the training and test loss and accuracy of every full-batch step.

Run outside the repository, in a venv with torch, numpy, einops, tqdm, matplotlib, plotly, pandas, seaborn,
scikit-learn and torcheval (what its model.py and utils.py import); wandb is replaced by a stand-in that only
records:

    git archive of gouki510/Grokking-Tickets at bd705c8 -> SRC
    VENV/bin/python scripts/reference/record_grokking_tickets.py --src SRC \
        --out tests/reference/minegishi2023_tickets/grokking-tickets

Its own `train.main(config)` runs with config/config.py's Exp() (p 67, 40% of the unordered pairs, embedding
500, hidden 48, ReLU, AdamW lr 1e-3 betas (0.9, 0.98), full batch) and the seed its command line defaults to
(0), with two settings changed on that object, as groklab's preset does: weight decay 1 (the paper's base)
instead of the checked-in 0, and the leftover L1 regularizer off (lp_alpha 0). Three things are bridged from
outside, none of which the modular path computes with: `.to("cuda")` (train.py and utils.py move the model and
labels to cuda unconditionally) is redirected to the CPU; data_module.py imports torchvision, which no registry
here serves for this torch, so a stand-in module provides the import; checkpoints and figures are off
(save_models False).
"""

from __future__ import annotations

import contextlib
import sys
import time

import numpy as np
from recording import StopTraining, base_parser, fake_wandb, save_reference, stand_in_torchvision

COMMIT = "bd705c8c115412db46d9976b9191013027c024be"


def cpu_for_cuda(torch) -> None:
    """Make `.to("cuda")` on tensors and modules a move to the CPU (this machine has no GPU)."""
    def redirect(original):
        def to(self, *args, **kwargs):
            args = tuple("cpu" if a == "cuda" else a for a in args)
            return original(self, *args, **kwargs)
        return to

    torch.Tensor.to = redirect(torch.Tensor.to)
    torch.nn.Module.to = redirect(torch.nn.Module.to)


def main() -> None:
    parser = base_parser(seed=0, threads=1)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--stop-test-acc", type=float, default=0.99)
    opts = parser.parse_args()

    sys.path.insert(0, str(opts.src))
    import torch

    torch.set_num_threads(opts.threads)
    cpu_for_cuda(torch)
    seen: dict = {"rows": []}

    def on_log(data, step):
        if "train_loss" not in data:
            return
        row = [float(data[k]) for k in ("train_loss", "test_loss", "train_acc", "test_acc")]
        seen["rows"].append(row)
        if row[3] >= opts.stop_test_acc or len(seen["rows"]) >= opts.steps:
            raise StopTraining

    fake_wandb(on_log)
    import model  # noqa: F401  (before the stand-in, so that torcheval, which it imports, sees no torchvision)

    stand_in_torchvision()
    import train  # the original modules, unchanged
    from config.config import Exp

    config = Exp()
    config.seed, config.weight_decay, config.lp_alpha = opts.seed, 1.0, 0.0
    config.num_epochs, config.save_models = opts.steps, False
    config.exp_name = f"recorded_seed{opts.seed}"
    config.root = opts.out / "scratch"
    split, initial = {}, {}
    original_split, original_to = train.gen_train_test, torch.nn.Module.to

    def gen_train_test(*args, **kwargs):
        split["train"], split["test"] = original_split(*args, **kwargs)
        return split["train"], split["test"]

    def module_to(self, *args, **kwargs):  # train.py moves the new model to its device before training
        if not initial and isinstance(self, train.OnlyMLP):
            initial.update({k: v.detach().clone().numpy() for k, v in self.state_dict().items() if "mask" not in k})
        return original_to(self, *args, **kwargs)

    train.gen_train_test, torch.nn.Module.to = gen_train_test, module_to
    t0 = time.perf_counter()
    with contextlib.suppress(StopTraining):
        train.main(config)
    wall = time.perf_counter() - t0
    rows = np.array(seen["rows"])
    reached = np.flatnonzero(rows[:, 3] >= 0.95)
    save_reference(opts.out, {
        "train_pairs": np.array(split["train"], dtype=np.int16), "test_pairs": np.array(split["test"], dtype=np.int16),
        "step_loss": rows[:, 0], "step_test_loss": rows[:, 1], "step_train_acc": rows[:, 2],
        "step_test_acc": rows[:, 3], **{f"init/{k}": v for k, v in initial.items()},
    }, {
        "repository": "gouki510/Grokking-Tickets", "commit": COMMIT,
        "command": " ".join(["record_grokking_tickets.py", *sys.argv[1:]]), "seed": opts.seed,
        "threads": opts.threads, "steps_run": len(rows), "wall_s": round(wall, 1),
        "settings_changed": {"weight_decay": 1.0, "lp_alpha": 0.0, "save_models": False},
        "first_step_test_acc_95": int(reached[0]) if len(reached) else None,
        "recorded": "split (unordered pairs (a, b), a <= b, in the code's shuffled order), initial W_E, inproj, "
                    "outproj and W_U, and for every full-batch step, before its update: training loss, test loss, "
                    "train and test accuracy (index i = the model after i updates)",
    })


if __name__ == "__main__":
    main()
