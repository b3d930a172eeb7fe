"""MNIST files: the user's npz or idx files are read and checked; broken data is named with its fix."""

import gzip

import numpy as np
import pytest
import torch

from groklab import api
from groklab.config import validate_config
from groklab.datasets.mnist import DatasetError, load_mnist
from groklab.tasks import build_task


def small_mnist(n_train=300, n_test=60, seed=0):
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
            "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, n_test).astype(np.uint8)}


def write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.tobytes()))


def test_npz_and_idx_folders_give_the_same_arrays(tmp_path):
    parts = small_mnist()
    np.savez(tmp_path / "mnist.npz", **parts)
    folder = tmp_path / "idx"
    folder.mkdir()
    names = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
    for key, name in names.items():
        write_idx(folder / f"{name}.gz", parts[key])
    a, b = load_mnist(str(tmp_path / "mnist.npz")), load_mnist(str(folder))
    assert a.x_train.shape == (300, 784) and np.array_equal(a.x_train, b.x_train)
    assert np.array_equal(a.y_test, parts["y_test"]) and np.array_equal(b.y_test, parts["y_test"])


def test_task_scales_pixels_and_draws_seeded_subsets(tmp_path):
    np.savez(tmp_path / "mnist.npz", **small_mnist())
    cfg = {"name": "mnist", "n_train": 100, "n_test": 40, "path": str(tmp_path / "mnist.npz")}
    first = build_task(validate_config({"task": cfg, "model": {"name": "mlp"}}).task, 0)
    assert first.train_x.shape == (100, 784) and first.train_x.dtype == torch.float32
    assert first.train_x.min() >= 0 and first.train_x.max() <= 1 and len(first.test_y) == 40
    random_cfg = validate_config({"task": {**cfg, "subset": "random"}, "model": {"name": "mlp"}}).task

    def draw(seed):
        return build_task(random_cfg, seed).train_y

    assert torch.equal(draw(1), draw(1)) and not torch.equal(draw(1), draw(2))


@pytest.mark.parametrize("break_it,fragment", [
    (lambda p: p.update(x_train=p["x_train"][:, :20]), "expected [n, 784]"),
    (lambda p: p.update(y_test=p["y_test"] + 20), "expected 0..9"),
])
def test_broken_files_are_refused_with_the_fix(tmp_path, break_it, fragment):
    parts = small_mnist()
    break_it(parts)
    np.savez(tmp_path / "bad.npz", **parts)
    with pytest.raises(DatasetError, match="not usable MNIST") as err:
        load_mnist(str(tmp_path / "bad.npz"))
    assert fragment in str(err.value) and "task.path" in str(err.value)


def test_a_full_size_set_with_wrong_label_counts_is_refused(tmp_path):
    parts = small_mnist(n_train=60_000, n_test=10)
    np.savez(tmp_path / "fake.npz", **parts)
    with pytest.raises(DatasetError, match="label counts"):
        load_mnist(str(tmp_path / "fake.npz"))


def test_missing_path_names_what_to_give(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_mnist(str(tmp_path / "nowhere.npz"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte"):
        load_mnist(str(tmp_path / "empty"))


def test_an_mlp_trains_on_user_mnist_files(tmp_path):
    np.savez(tmp_path / "mnist.npz", **small_mnist())
    cfg = validate_config({
        "device": "cpu", "task": {"name": "mnist", "n_train": 200, "n_test": 60, "path": str(tmp_path / "mnist.npz")},
        "model": {"name": "mlp", "width": 32, "depth": 3, "init_scale": 2.0},
        "optim": {"lr": 1e-3, "weight_decay": 0.0, "warmup_steps": 0},
        "train": {"steps": 60, "batch_size": 50, "loss": "mse", "fixed_weight_norm": True},
        "eval": {"every": 20, "log_points": 0},
    })
    result = api.run(cfg, tmp_path / "run", show_progress=False).result
    norms = result.history.column("param_norm")
    assert result.analysis.final["train_acc"] > 0.3  # random labels: learning means memorizing
    assert np.allclose(norms, norms[0], rtol=1e-4)  # the norm is held at its initial value
