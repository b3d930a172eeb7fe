"""Record AhmedImtiazPrio/grok-adversarial's train_mlp_mnist.py (Humayun et al. 2024): its training subset,
initial weights, each step's batch rows and per-step training loss.

Run outside the repository, in a venv with torch, numpy, tqdm and matplotlib, from a scratch folder (the script
writes checkpoints under ./models and ./logs):

    git archive of AhmedImtiazPrio/grok-adversarial at 74d36ce -> SRC
    VENV/bin/python scripts/reference/record_grok_adversarial.py --src SRC --mnist ~/.cache/groklab/mnist.npz \
        --out tests/reference/humayun2024/grok-adversarial --steps 40

The script itself runs (runpy, its argument: a log comment) with configs.py's config_base_mnist_mlp, four of
whose values are set on the config object after it is built: width 200 and depth 4 only (the code loops over
depths 2-6; groklab's preset takes 4), one local-complexity radius (0.5, the preset's) and 1000 random anchors
(approx_n; the code's 10000 make each of its logs take minutes here). Its local-complexity and checkpoint code
runs at its logging steps as written: it reseeds torch's global generator (samplers.sample_ortho_random calls
torch.manual_seed), which decides the batch order, so that order is recorded rather than rebuilt. From outside:
configs.py's missing `import math` is supplied (config_base_mnist_mlp() raises NameError without it); `.cuda()`
(called unconditionally on the model, in samplers.py and local_complexity.py) is made a no-op on this CPU
machine; MNIST comes from a torchvision stand-in (groklab's verified cache, ToTensor's semantics); BatchSampler
and MSELoss are wrapped to see each training batch (batches of 200) and each step's loss (reduction 'mean').
"""

from __future__ import annotations

import contextlib
import math
import os
import runpy
import sys
import time
from pathlib import Path

import numpy as np
from recording import StopTraining, base_parser, save_reference, stand_in_torchvision, watch_minibatch_mse

COMMIT = "74d36cea54fedf846974b29eac492125d015f5cf"
TRAIN_BATCH = 200


def main() -> None:
    parser = base_parser(seed=0, threads=2)
    parser.add_argument("--mnist", type=Path, required=True, help="an npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--scratch", default="/tmp/grok_adversarial_scratch", help="the script's working directory")
    opts = parser.parse_args()
    command = " ".join(["record_grok_adversarial.py", *sys.argv[1:]])

    sys.path.insert(0, str(opts.src))
    import torch

    torch.set_num_threads(opts.threads)
    torch.nn.Module.cuda = torch.Tensor.cuda = lambda self, *_, **__: self
    stand_in_torchvision(opts.mnist)
    import configs  # the original module, unchanged

    configs.math = math  # configs.py uses math without importing it: as published, the script stops there
    base_init = configs.config_base_mnist_mlp.__init__

    def config_init(self):
        base_init(self)
        self.width, self.depth, self.hull_r, self.approx_n = [200], [4], [0.5], 1000

    configs.config_base_mnist_mlp.__init__ = config_init
    seen = watch_minibatch_mse(TRAIN_BATCH, opts.steps)
    subset_init = torch.utils.data.Subset.__init__

    def subset(self, dataset, indices):  # the training rows the script draws
        seen.setdefault("train_rows", np.asarray(indices))
        subset_init(self, dataset, indices)

    torch.utils.data.Subset.__init__ = subset
    for folder in ("logs", "models"):
        os.makedirs(os.path.join(opts.scratch, folder), exist_ok=True)
    os.chdir(opts.scratch)
    sys.argv = ["train_mlp_mnist.py", "recorded"]
    t0 = time.perf_counter()
    with contextlib.suppress(StopTraining):
        runpy.run_path(str(opts.src / "train_mlp_mnist.py"), run_name="__main__")
    wall = time.perf_counter() - t0
    initial = sorted(Path(opts.scratch, "models").glob("*/checkpoint-w:200-d:4-s:0.pt"))[-1]
    init = torch.load(initial, weights_only=False)["model_state_dict"]
    steps = opts.steps
    # the first batches of 200 come from the script's own pass over train_loader (to collect train_x); the
    # training loop's batches are the last steps + 1 seen
    training = seen["batches"][-(steps + 1):][:steps]
    save_reference(opts.out, {
        "train_rows": seen["train_rows"].astype(np.int32),
        "batch_rows": np.concatenate(training).astype(np.int16),
        "batch_sizes": np.array([len(b) for b in training], dtype=np.int64),
        "step_loss": np.array(seen["loss"][:steps]), **{f"init/{k}": v.numpy() for k, v in init.items()},
    }, {
        "repository": "AhmedImtiazPrio/grok-adversarial", "commit": COMMIT, "command": command,
        "config_changed": {"width": [200], "depth": [4], "hull_r": [0.5], "approx_n": 1000},
        "seed": opts.seed, "threads": opts.threads, "steps_run": steps, "wall_s": round(wall, 1),
        "recorded": "the training subset (rows of MNIST's training set drawn by torch.randint, with repeats), the "
                    "initial weights of its nn.Sequential (its step-0 checkpoint; index 0 is Flatten), the rows "
                    "(into that subset) of each step's batch and each step's MSE loss, in float64",
    })


if __name__ == "__main__":
    main()
