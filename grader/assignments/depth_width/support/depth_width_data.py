"""MNIST for the depth-against-width problems. You do not need to edit this file.

    from depth_width_data import load_mnist
    train_data, test_data = load_mnist()
    image, label = train_data[0]      # (1, 28, 28) float32 in [0, 1], an int digit

``train_data`` holds MNIST's 60000 training digits, ``test_data`` 5000 of its test
digits (the even rows): use them to follow how your models do. The autograder keeps
the other 5000 test digits to score your models on digits they never saw. Iterate
either with ``DataLoader(train_data, batch_size=32, shuffle=True)``, which gives
(images (B, 1, 28, 28), labels (B,)) batches, as torchvision's MNIST with
``transforms.ToTensor()`` does.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from grader.core.paths import data_folder

YOUR_TEST_ROWS = slice(0, None, 2)


class Digits(Dataset):
    """(image, label) items: a (1, 28, 28) float32 tensor in [0, 1] and an int64
    digit. Counts what it gives out (``items_read``, and the sizes of the batches a
    DataLoader asks for in ``batch_sizes``) and calls ``monitor.update(self)`` after
    each read when a monitor is set."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self._images = torch.from_numpy(
            np.ascontiguousarray(images, dtype=np.float32).reshape(-1, 1, 28, 28))
        self._labels = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        self.items_read = 0
        self.batch_sizes: list[int] = []
        self.monitor = None

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index):
        self._after_reading(1)
        return self._images[index], self._labels[index]

    def __getitems__(self, indices):
        """A batch for DataLoader, cut out with one gather."""
        rows = torch.as_tensor(indices, dtype=torch.long)
        images, labels = self._images.index_select(0, rows), self._labels.index_select(0, rows)
        self.batch_sizes.append(len(rows))
        self._after_reading(len(rows))
        return list(zip(images.unbind(0), labels.unbind(0)))

    def _after_reading(self, count: int) -> None:
        self.items_read += count
        if self.monitor is not None:
            self.monitor.update(self)


def load_mnist(data_dir: Path | str | None = None) -> tuple[Digits, Digits]:
    """(train_data, test_data) as described at the top of this file."""
    path = Path(data_dir or data_folder(__file__)) / "mnist.npz"
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise FileNotFoundError(f"cannot read {path} ({error}): restore data/mnist.npz from "
                                "a fresh download of the project") from None
    scale = np.float32(255)
    return (Digits(arrays["train_images"] / scale, arrays["train_labels"]),
            Digits(arrays["test_images"][YOUR_TEST_ROWS] / scale,
                   arrays["test_labels"][YOUR_TEST_ROWS]))
