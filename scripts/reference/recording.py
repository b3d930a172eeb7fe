"""Shared pieces of the reference recorders: a stand-in for wandb, a stop signal and the npz + JSON writer.

The recorders run a paper's original code, unchanged, from its own checkout and its own venv; they only wrap
its functions from outside to see what it computes. Nothing here is imported by groklab or its tests."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import types
from pathlib import Path

import numpy as np


def base_parser(seed: int = 0, threads: int = 2) -> argparse.ArgumentParser:
    """The arguments every recorder takes: the original's source folder, the output folder, seed, threads."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", type=Path, required=True, help="the original code (a git archive of its commit)")
    parser.add_argument("--out", type=Path, required=True, help="the reference folder to write")
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--threads", type=int, default=threads)
    return parser


class StopTraining(Exception):
    """Raised from a logging call once the recorded run has what it needs (e.g. test accuracy >= 99%)."""


def fake_wandb(on_log) -> types.ModuleType:
    """A module standing in for wandb (the originals log to it; no account, no network here): `init` keeps the
    config, `log(dict, step=None)` calls `on_log(dict, step)`."""
    module = types.ModuleType("wandb")
    module.run = None

    def init(project=None, config=None, **_):
        config = config if isinstance(config, dict) or config is None else vars(config)  # wandb takes objects too
        module.config = types.SimpleNamespace(**(config or {}))
        module.run = object()
        return module.run

    module.init = init
    module.log = lambda data, step=None, **_: on_log(data, step)
    sys.modules["wandb"] = module
    return module


def stand_in_torchvision(mnist: Path | None = None) -> None:
    """Make `import torchvision` (and its `datasets` and `transforms`) succeed without torchvision, which does not
    import beside this torch and which no registry here serves for it. With `mnist` (an npz with x_train,
    y_train, x_test, y_test: groklab's verified cache of the real MNIST, canonical order) it also serves
    `datasets.MNIST(root, train, transform, download)` and `transforms.ToTensor` with torchvision's semantics
    (uint8 [28, 28] -> [1, 28, 28] in the default dtype, divided by 255); anything else fails loudly."""
    import torch

    package = types.ModuleType("torchvision")
    for name in ("datasets", "transforms"):
        module = types.ModuleType(f"torchvision.{name}")
        setattr(package, name, module)
        sys.modules[f"torchvision.{name}"] = module
    sys.modules["torchvision"] = package
    if mnist is None:
        return
    with np.load(mnist) as arrays:
        images = {True: arrays["x_train"].reshape(-1, 28, 28), False: arrays["x_test"].reshape(-1, 28, 28)}
        labels = {True: arrays["y_train"], False: arrays["y_test"]}

    class MNIST(torch.utils.data.Dataset):
        def __init__(self, root=None, train=True, transform=None, download=False):
            self.images, self.labels, self.transform = images[train], labels[train], transform

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, i):
            return self.transform(self.images[i]), int(self.labels[i])

    class ToTensor:
        def __call__(self, picture):
            return torch.from_numpy(np.array(picture))[None].to(torch.get_default_dtype()).div(255)

    package.datasets.MNIST, package.transforms.ToTensor = MNIST, ToTensor


def watch_minibatch_mse(batch_size: int, steps: int, before_first_step=None) -> dict:
    """Wrap torch's BatchSampler and MSELoss for originals with a notebook-style loop (Omnigrok, grok-adversarial):
    returns a dict whose "batches" gets the rows of every batch of `batch_size` (their evaluation loaders use
    other sizes) and whose "loss" gets every mean-reduced MSE (a training step; their evaluation sums), raising
    StopTraining once `steps` are recorded and the next begins. `before_first_step()` runs before the first."""
    import torch

    seen: dict = {"batches": [], "loss": []}
    batch_iter, mse_forward = torch.utils.data.BatchSampler.__iter__, torch.nn.MSELoss.forward

    def batches(self):
        for rows in batch_iter(self):
            if self.batch_size == batch_size:
                seen["batches"].append(list(rows))
            yield rows

    def mse(self, outputs, targets):
        loss = mse_forward(self, outputs, targets)
        if self.reduction == "mean":
            if not seen["loss"] and before_first_step is not None:
                before_first_step()
            seen["loss"].append(loss.item())
            if len(seen["loss"]) > steps:
                raise StopTraining
        return loss

    torch.utils.data.BatchSampler.__iter__, torch.nn.MSELoss.forward = batches, mse
    return seen


def save_reference(out: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write out/reference.npz (float arrays as float32) and out/meta.json."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    packed = {k: (v.astype(np.float32) if np.issubdtype(v.dtype, np.floating) else v) for k, v in arrays.items()}
    np.savez_compressed(out / "reference.npz", **packed)
    meta = {**meta, "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()}
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    size = (out / "reference.npz").stat().st_size
    print(f"wrote {out}/reference.npz ({size / 1e6:.2f} MB) and meta.json")
