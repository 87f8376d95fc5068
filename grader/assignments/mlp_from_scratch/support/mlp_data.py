"""MNIST for the MLP and the CNN of this project. You do not need to edit this file.

    from mlp_data import load_digits
    data = load_digits()
    data.train_images        # (50000, 784) float32 pixels in [0, 1]
    data.train_labels        # (50000, 10) float32 one-hot labels
    data.train_digits        # (50000,) int64 digits
    data.validation_images   # (10000, 784): MNIST's last 10000 training digits
    data.test_images         # (10000, 784): MNIST's test digits

``validation_labels``/``validation_digits`` and ``test_labels``/``test_digits`` are
as for training. The test labels stay with the autograder: in the released
data/mnist.npz they are blanked (255), and while the autograder grades, using them
is an error. Never train on the test set; measure on "validation".

``data.subset(2000)`` is the same data with only the first 2000 training images (the
over-fitting experiment). ``data.batches(256)`` yields shuffled (images, one-hot
labels) batches of the training set, one epoch per call. ``data.accuracy(model,
"validation")`` measures a model (your MLP, whose ``forward`` takes (B, 784) images,
or a torch model taking (B, 1, 28, 28)) and keeps each value in ``data.history``, so
that accuracy can be plotted against the evaluations.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from grader.core.paths import data_folder

TRAINING, VALIDATION = slice(0, 50000), slice(50000, 60000)


def one_hot(digits: np.ndarray) -> np.ndarray:
    """(N, 10) float32 rows with a 1 at each digit (a row stays 0 where the digit is
    not 0-9: a label the autograder blanked)."""
    labels = np.zeros((len(digits), 10), dtype=np.float32)
    known = (digits >= 0) & (digits < 10)
    labels[np.flatnonzero(known), digits[known]] = 1
    return labels


class Digits:
    """Training, validation and test images with their labels (see the top of this
    file)."""

    def __init__(self, images: dict[str, np.ndarray], digits: dict[str, np.ndarray]):
        for split in ("train", "validation", "test"):
            setattr(self, f"{split}_images", images[split])
            setattr(self, f"{split}_digits", digits[split])
            setattr(self, f"{split}_labels", one_hot(digits[split]))
        self.history: list[tuple[int, str, float]] = []   # (evaluation, split, accuracy)

    def subset(self, count: int) -> "Digits":
        """The same data with only the first ``count`` training images."""
        images = {split: getattr(self, f"{split}_images") for split in ("validation", "test")}
        digits = {split: getattr(self, f"{split}_digits") for split in ("validation", "test")}
        smaller = Digits({"train": self.train_images[:count], **images},
                         {"train": self.train_digits[:count], **digits})
        for split in ("validation", "test"):        # keep what the autograder withheld
            setattr(smaller, f"{split}_labels", getattr(self, f"{split}_labels"))
        smaller.history = self.history
        return smaller

    def batches(self, batch_size: int = 256, shuffle: bool = True):
        """One epoch of (images (B, 784), one-hot labels (B, 10)) training batches,
        shuffled with numpy's global generator (``np.random.seed`` fixes the order)."""
        order = np.random.permutation(len(self.train_images)) if shuffle \
            else np.arange(len(self.train_images))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            yield self.train_images[rows], self.train_labels[rows]

    def accuracy(self, model, split: str = "validation", batch_size: int = 1000) -> float:
        """The fraction of ``split`` ('train', 'validation' or 'test') that ``model``
        classifies correctly; also appended to ``history``."""
        images, digits = getattr(self, f"{split}_images"), getattr(self, f"{split}_digits")
        if isinstance(digits, np.ndarray) and len(digits) and \
                not ((digits >= 0) & (digits < 10)).any():
            raise ValueError(f"the {split} labels are kept by the autograder (data/mnist.npz "
                             f"has them blanked), so accuracy(model, {split!r}) cannot be "
                             "measured here: use accuracy(model, 'validation')")
        predicted = np.concatenate([_predict(model, images[start:start + batch_size])
                                    for start in range(0, len(images), batch_size)])
        accuracy = float(np.mean(predicted == digits))
        self.history.append((len(self.history), split, accuracy))
        return accuracy


def _predict(model, images: np.ndarray) -> np.ndarray:
    """Digits predicted for (B, 784) images by a numpy MLP or a torch model."""
    if hasattr(model, "parameters") and callable(model.parameters):   # a torch module
        import torch
        flags = [(module, module.training) for module in model.modules()]
        for module, _ in flags:
            module.training = False
        try:
            with torch.no_grad():
                scores = model(torch.from_numpy(images).reshape(-1, 1, 28, 28))
        finally:
            for module, training in flags:
                module.training = training
        return scores.argmax(dim=1).numpy()
    return np.asarray(model.forward(images)).reshape(len(images), -1).argmax(axis=1)


def load_digits(data_dir: Path | str | None = None) -> Digits:
    """MNIST split as described at the top of this file."""
    path = Path(data_dir or data_folder(__file__)) / "mnist.npz"
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise FileNotFoundError(f"cannot read {path} ({error}): restore data/mnist.npz from "
                                "a fresh download of the project") from None

    def images(values: np.ndarray) -> np.ndarray:
        return values.reshape(len(values), -1).astype(np.float32) / np.float32(255)

    train_images = images(arrays["train_images"])
    train_digits = arrays["train_labels"].astype(np.int64)
    return Digits({"train": train_images[TRAINING], "validation": train_images[VALIDATION],
                   "test": images(arrays["test_images"])},
                  {"train": train_digits[TRAINING], "validation": train_digits[VALIDATION],
                   "test": arrays["test_labels"].astype(np.int64)})
