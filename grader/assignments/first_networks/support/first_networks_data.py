"""Data for the "first networks" practical. You do not need to edit this file.

    from first_networks_data import load_mnist
    (X_train, y_train), (X_test, y_test) = load_mnist()

``X_train`` is (60000, 28, 28) and ``X_test`` (5000, 28, 28): uint8 pixel values
0-255, as torch tensors; ``y_train`` and ``y_test`` are int64 digit labels. The test
images are half of MNIST's 10000 test digits (its even rows); the autograder keeps
the other half to score your network on digits you never saw.

The quadrants data of the first part you build yourself (``quadrant_dataset`` in
quadrants.py). The autograder hands your training functions ``Tensors`` datasets: a
``torch.utils.data.TensorDataset`` whose items are ``(x, label)`` pairs, as
``TensorDataset(x, labels)`` gives, which also counts the items read (for its
progress line).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from grader.core.paths import data_folder

# MNIST's test digits are split alternately: even rows are yours, odd rows the
# autograder's.
YOUR_TEST_ROWS = slice(0, None, 2)
GRADED_TEST_ROWS = slice(1, None, 2)


def _arrays(data_dir: Path | None = None) -> dict[str, np.ndarray]:
    path = Path(data_dir or data_folder(__file__)) / "mnist.npz"
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in ("train_images", "train_labels",
                                                  "test_images", "test_labels")}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise FileNotFoundError(f"cannot read {path} ({error}): restore data/mnist.npz from a "
                                "fresh download of the project") from None


def load_mnist(data_dir: Path | str | None = None):
    """((X_train, y_train), (X_test, y_test)) as described at the top of this file."""
    arrays = _arrays(data_dir)

    def images(values: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(values).reshape(-1, 28, 28))

    def labels(values: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(values.astype(np.int64))

    return ((images(arrays["train_images"]), labels(arrays["train_labels"])),
            (images(arrays["test_images"][YOUR_TEST_ROWS]),
             labels(arrays["test_labels"][YOUR_TEST_ROWS])))


class Tensors(TensorDataset):
    """``TensorDataset(x, labels)`` that counts the items read (``items_read``) and
    calls ``monitor.update(self)`` after each read when a monitor is set."""

    items_read = 0
    monitor = None

    def __getitem__(self, index):
        self._after_reading(1)
        return super().__getitem__(index)

    def __getitems__(self, indices):
        """A batch for DataLoader, cut out with one gather per tensor."""
        rows = torch.as_tensor(indices, dtype=torch.long)
        columns = [tensor.index_select(0, rows) for tensor in self.tensors]
        self._after_reading(len(rows))
        return list(zip(*(column.unbind(0) for column in columns)))

    def _after_reading(self, count: int) -> None:
        self.items_read += count
        if self.monitor is not None:
            self.monitor.update(self)
