"""Record ironjr/grokfast main.py on x*y mod 97: split, initial weights, batch order, per-step losses.

Run outside the repository, in a venv with torch, tqdm and matplotlib, from an empty folder (main.py writes
results/ there):

    git archive of ironjr/grokfast at 93b2248 -> SRC (main.py, grokfast.py)
    VENV/bin/python scripts/reference/record_grokfast.py --src SRC --out tests/reference/lee2024_grokfast/grokfast

Its own `main(args)` runs with the README's EMA command (--filter ema --alpha 0.98 --lamb 2.0
--weight_decay 0.005, the other flags at their defaults: seed 0, Adam lr 1e-3, betas (0.9, 0.98), batch 512)
on the CPU; `--filter none --weight-decay 0` gives the README's baseline. Its loss and forward are wrapped from
outside to see each step's batch and loss. The run stops at the first epoch whose validation accuracy (the
code's own per-epoch pass) reaches --stop-acc.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from argparse import Namespace

import numpy as np
from recording import StopTraining, base_parser, save_reference

COMMIT = "93b2248e351d4bb9e4dda8ac32a6999b8970404b"


def main() -> None:
    parser = base_parser(seed=0, threads=2)
    parser.add_argument("--filter", default="ema")
    parser.add_argument("--weight-decay", type=float, default=0.005)
    parser.add_argument("--record-batches", type=int, default=300)
    parser.add_argument("--stop-acc", type=float, default=0.95)
    opts = parser.parse_args()

    sys.path.insert(0, str(opts.src))
    import main as grokfast_main  # the original module, unchanged
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(opts.threads)
    os.makedirs("results", exist_ok=True)
    seen: dict = {"losses": [], "batches": [], "epochs": [], "val": [0, 0], "step_start": None, "step_s": []}
    original_init, original_forward = grokfast_main.Decoder.__init__, grokfast_main.Decoder.forward
    original_ce = F.cross_entropy

    def init(self, *a, **k):
        original_init(self, *a, **k)
        seen["init"] = {n: v.detach().clone() for n, v in self.state_dict().items()}

    def forward(self, x):
        if self.training:
            if seen["val"][1]:  # a validation pass ended: the code's epoch is complete
                acc = seen["val"][0] / seen["val"][1]
                seen["epochs"].append((len(seen["losses"]), acc, time.perf_counter() - t0))
                seen["val"] = [0, 0]
                print(f"step {len(seen['losses'])}: val acc {acc:.3f}", flush=True)
                if acc >= opts.stop_acc:
                    raise StopTraining
            if seen["step_start"] is not None:
                seen["step_s"].append(time.perf_counter() - seen["step_start"])
            seen["step_start"] = time.perf_counter()
            if len(seen["batches"]) < opts.record_batches:
                seen["batches"].append(x[[0, 2]].T.clone())  # the (x, y) operands of each sample
        return original_forward(self, x)

    def cross_entropy(logits, target, *a, **k):
        loss = original_ce(logits, target, *a, **k)
        if torch.is_grad_enabled():
            seen["losses"].append(loss.item())
        else:
            seen["val"][0] += int((logits.argmax(-1) == target).sum())
            seen["val"][1] += len(target)
        return loss

    grokfast_main.Decoder.__init__, grokfast_main.Decoder.forward = init, forward
    F.cross_entropy = cross_entropy
    args = Namespace(label="record", seed=opts.seed, p=97, budget=int(3e5), batch_size=512, lr=1e-3, beta1=0.9,
                     beta2=0.98, weight_decay=opts.weight_decay, optimizer="Adam", filter=opts.filter, alpha=0.98,
                     window_size=100, lamb=2.0, two_stage=False, save_weights=False)
    t0 = time.perf_counter()
    with contextlib.suppress(StopTraining):
        grokfast_main.main(args)
    wall = time.perf_counter() - t0

    p = args.p
    first_epoch = torch.cat(seen["batches"][:10]).numpy()  # 4656 = 9 x 512 + 48: the first 10 batches
    operands = {tuple(r) for r in torch.cartesian_prod(torch.arange(p), torch.arange(1, p)).tolist()}
    train = [tuple(r) for r in first_epoch.tolist()]
    test = sorted(operands - set(train))
    row_of = {r: i for i, r in enumerate(train)}
    batch_rows = [np.array([row_of[tuple(r)] for r in b.tolist()], dtype=np.int16) for b in seen["batches"]]
    epochs = np.array(seen["epochs"])
    reached = next((int(s) for s, acc, _ in seen["epochs"] if acc >= opts.stop_acc), None)
    save_reference(opts.out, {
        "train_pairs": np.array(train, dtype=np.int16), "test_pairs": np.array(test, dtype=np.int16),
        "batch_rows": np.concatenate(batch_rows), "batch_sizes": np.array([len(b) for b in batch_rows]),
        "step_loss": np.array(seen["losses"]),
        "epoch_end_step": epochs[:, 0].astype(np.int32), "epoch_val_acc": epochs[:, 1],
        "epoch_elapsed_s": epochs[:, 2],
        **{f"init/{n}": v.numpy() for n, v in seen["init"].items()},
    }, {
        "repository": "ironjr/grokfast", "commit": COMMIT,
        "command": " ".join(["record_grokfast.py", *sys.argv[1:]]), "seed": opts.seed, "threads": opts.threads,
        "args": vars(args), "steps_run": len(seen["losses"]), "test_acc_threshold": opts.stop_acc,
        "threshold_step": reached, "wall_s": round(wall, 1), "median_step_s": statistics.median(seen["step_s"]),
        "recorded": "split (train pairs (x, y) in the order of the first epoch's batches; test pairs sorted), "
                    "initial state_dict, batch rows of the first steps, training loss of every step, the "
                    "validation accuracy of each epoch (the code's own pass, after epoch_end_step updates)",
    })


if __name__ == "__main__":
    main()
