"""Record ejmichaud/grokking-squared's toy model (toy/train_add.py, Liu et al. 2022): split, initial weights, the
order of each step's batch, per-step losses and accuracies.

Run outside the repository, in a venv with torch and numpy:

    git archive of ejmichaud/grokking-squared at 0229df9 toy/train_add.py -> SRC/toy
    VENV/bin/python scripts/reference/record_grokking_squared.py --src SRC/toy \
        --out tests/reference/liu2022_effective/grokking-squared

Its own `train_add(...)` runs with the settings of groklab's canonical (the phase diagram notebook's
classification setting: p 10, 45 training pairs, 1-D representations, width 200, cross-entropy, representation
lr 1e-3, decoder lr 1e-4 and weight decay 7) and the code's seed 58. numpy.random.choice and torch.optim.AdamW
are wrapped from outside to see the split, each step's batch order and the initial parameters.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from recording import base_parser, save_reference

COMMIT = "0229df94de69b8384e560367280a43a238112bf5"


def main() -> None:
    parser = base_parser(seed=58, threads=1)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--record-batches", type=int, default=300)
    opts = parser.parse_args()

    sys.path.insert(0, str(opts.src))
    import torch
    import train_add as toy  # the original module, unchanged

    torch.set_num_threads(opts.threads)
    choices, initial = [], {}
    original_choice, original_adamw = np.random.choice, torch.optim.AdamW.__init__

    def choice(*a, **k):
        out = original_choice(*a, **k)
        if len(choices) <= opts.record_batches:
            choices.append(np.array(out))
        return out

    def adamw(self, params, *a, **k):
        params = list(params)
        initial[len(initial)] = [p.detach().clone() for p in params]
        original_adamw(self, params, *a, **k)

    np.random.choice, torch.optim.AdamW.__init__ = choice, adamw
    t0 = time.perf_counter()
    result = toy.train_add(p=10, reprs_dim=1, train_num=45, seed=opts.seed, steps=opts.steps, eff_steps=1,
                           batch_size=45, eta_reprs=1e-3, eta_dec=1e-4, weight_decay_dec=7.0, width=200,
                           loss_type="CE", log_freq=10**9)
    wall = time.perf_counter() - t0
    pairs = np.array([(i, j) for i in range(10) for j in range(i, 10)])
    train_id = choices[0]  # the split: 45 of the 55 pairs
    test_id = np.array(list(set(np.arange(len(pairs))) - set(train_id)))  # as the code orders its test set
    reprs = initial[0][0].numpy()
    net = [t.numpy() for t in initial[1]]  # l1, l2, l3 weights and biases, in parameters() order
    names = ["l1.weight", "l1.bias", "l2.weight", "l2.bias", "l3.weight", "l3.bias"]
    save_reference(opts.out, {
        "train_pairs": pairs[train_id].astype(np.int16), "test_pairs": pairs[test_id].astype(np.int16),
        "batch_rows": np.concatenate(choices[1:]).astype(np.int16),
        "batch_sizes": np.full(len(choices) - 1, 45, dtype=np.int64),
        "step_loss": result["loss_train"], "step_test_loss": result["loss_test"],
        "step_train_acc": result["acc_train"], "step_test_acc": result["acc_test"],
        "init/reprs": reprs, **{f"init/net.{n}": v for n, v in zip(names, net, strict=True)},
    }, {
        "repository": "ejmichaud/grokking-squared", "commit": COMMIT,
        "command": " ".join(["record_grokking_squared.py", *sys.argv[1:]]), "seed": opts.seed,
        "threads": opts.threads, "steps_run": opts.steps, "wall_s": round(wall, 1),
        "iter_train": int(result["iter_train"]), "iter_test": int(result["iter_test"]),
        "iter_rqi": int(result["iter_rqi"]),
        "recorded": "split (pairs (a, b), a <= b, in the code's train_id / test_id order), initial representations "
                    "and decoder parameters, each step's batch order (a permutation of the 45 training pairs) for "
                    "the first steps, training loss (before the update), test loss, train accuracy (after the "
                    "update) and test accuracy (from the outputs before the update) of every step; iter_train/"
                    "iter_test: the code's first steps at 90% accuracy",
    })


if __name__ == "__main__":
    main()
