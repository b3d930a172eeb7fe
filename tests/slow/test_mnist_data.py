"""The real MNIST: obtained (or read from the cache) and verified as the canonical set."""

import numpy as np
import pytest

from groklab.datasets.mnist import TEST_COUNTS, TRAIN_COUNTS, load_mnist

pytestmark = pytest.mark.slow


def test_real_mnist_is_the_canonical_set():
    data = load_mnist()
    assert data.x_train.shape == (60_000, 784) and data.x_test.shape == (10_000, 784)
    assert np.bincount(data.y_train).tolist() == TRAIN_COUNTS and np.bincount(data.y_test).tolist() == TEST_COUNTS
    assert data.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert data.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
