"""Datasets for the project's questions. You do not need to edit (or read) this file.

Every dataset is a ``torch.utils.data.Dataset`` whose items are dictionaries
``{'x': features, 'label': target}`` of float32 tensors, so the usual way to train is

    loader = DataLoader(dataset, batch_size=64, shuffle=True)
    for batch in loader:
        x, y = batch['x'], batch['label']        # (64, ...) tensors

| question | dataset                        | batch['x']      | batch['label'] |
|----------|--------------------------------|-----------------|----------------|
| q1       | PerceptronDataset(model)       | (B, 3)          | (B, 1) of +-1  |
| q2       | RegressionDataset(model)       | (B, 1)          | (B, 1)         |
| q3       | DigitClassificationDataset     | (B, 784)        | (B, 10) one-hot|
| q4       | LanguageIDDataset(model)       | (B, 10, 47)     | (B, 5) one-hot |
| q5       | DigitClassificationDataset2    | (B, 784)        | (B, 10) one-hot|

Datasets are fast to iterate: a DataLoader asks for a whole batch at once
(``__getitems__``), which costs one tensor gather instead of one Python call per item.
Live plots are opt-in: ``watch(dataset)`` draws one while the model trains, if a
display is available; reading items never draws anything by itself.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from grader.assignments.course import splits
from grader.core.model_calls import evaluating, model_output  # noqa: F401 - part of backend's API

DATA_DIR = Path(__file__).resolve().parent / "data"

LANGUAGE_ID_KEYS = frozenset(
    ["chars", "language_codes", "language_names"]
    + [f"{split}_{part}" for split in ("train", "dev", "test") for part in ("x", "y", "buckets")])


class DataFileError(RuntimeError):
    """A shipped data file is missing or damaged."""


def load_data_file(name: str, data_dir: Path | str | None = None) -> dict[str, np.ndarray]:
    """Read every array of ``data/<name>`` (an .npz file) into memory.

    Raises DataFileError, naming the file and how to restore it, when the file is
    missing or cannot be read.
    """
    path = Path(data_dir or DATA_DIR) / name
    restore = (f"Restore it by copying data/{name} from a fresh download of the project "
               f"(or `git checkout -- data/{name}` in a git checkout).")
    if not path.is_file():
        raise DataFileError(f"The data file {path} is missing. {restore}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise DataFileError(f"The data file {path} is damaged ({error}). {restore}") from None


def _float32_matrix(values, name: str) -> np.ndarray:
    array = np.ascontiguousarray(values, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"Custom_Dataset: {name} must be a 2-D array (rows, features); "
                         f"got shape {array.shape}")
    return array


def _one_hot(indices: np.ndarray, classes: int) -> np.ndarray:
    out = np.zeros((len(indices), classes), dtype=np.float32)
    out[np.arange(len(indices)), indices] = 1.0
    return out


class Custom_Dataset(Dataset):
    """A dataset of rows ``x[i]`` with targets ``y[i]``.

    Args:
        x: (N, d) array of features.
        y: (N, k) array of targets.

    ``dataset.x`` and ``dataset.y`` are float32 numpy arrays; items are
    ``{'x': (d,) tensor, 'label': (k,) tensor}``. (The name keeps the course's
    original spelling so existing code finds it.)
    """

    def __init__(self, x, y):
        self.x = x
        self.y = y
        if len(self.x) != len(self.y):
            raise ValueError(f"Custom_Dataset: x has {len(self.x)} rows but y has "
                             f"{len(self.y)}; they must match")
        self.model = None
        self.monitor = None  # set by watch(); called after items are read

    # x and y are kept as numpy arrays (what student code reads) with tensor views
    # sharing their memory (what items are cut from), so items never convert data.
    @property
    def x(self) -> np.ndarray:
        return self._x

    @x.setter
    def x(self, values) -> None:
        self._x = _float32_matrix(values, "x")
        self._x_tensor = torch.from_numpy(self._x)

    @property
    def y(self) -> np.ndarray:
        return self._y

    @y.setter
    def y(self, values) -> None:
        self._y = _float32_matrix(values, "y")
        self._y_tensor = torch.from_numpy(self._y)

    def __len__(self) -> int:
        return len(self._x_tensor)

    def __getitem__(self, index):
        if torch.is_tensor(index):
            index = index.tolist()
        self._after_reading(1)
        return {"x": self._x_tensor[index], "label": self._y_tensor[index]}

    def __getitems__(self, indices):
        """A batch of items for DataLoader, cut out with one gather."""
        rows = torch.as_tensor(indices, dtype=torch.long)
        xs = self._x_tensor.index_select(0, rows).unbind(0)
        ys = self._y_tensor.index_select(0, rows).unbind(0)
        self._after_reading(len(rows))
        return [{"x": x, "label": y} for x, y in zip(xs, ys)]

    # Items read so far, over every pass (a class default, so that subclasses that
    # skip __init__ count too): the autograder shows the epochs while a question
    # trains, and validation_history places each validation accuracy at its epoch.
    items_read = 0

    def _after_reading(self, count: int) -> None:
        self.items_read += count
        if self.monitor is not None:
            self.monitor.update(self)

    def _remember_validation(self, accuracy: float) -> float:
        """Append ``(epochs read, accuracy)`` to ``self.validation_history`` and
        return ``accuracy`` unchanged. The autograder draws this history (accuracy
        against epochs) when it saves figures; nothing else reads it."""
        history = self.__dict__.setdefault("validation_history", [])
        history.append((self.items_read / max(len(self), 1), float(accuracy)))
        return accuracy

    def get_validation_accuracy(self) -> float:
        raise NotImplementedError(
            f"{type(self).__name__} has no validation split. Only the digit "
            "classification and language identification datasets have one.")


class PerceptronDataset(Custom_Dataset):
    """500 points (x0, x1, 1) labelled +1 where x0 + 2*x1 - 1 >= 0, else -1.

    x0 and x1 are standard normal (numpy's global generator); the constant 1 is a
    bias feature. ``x`` is (500, 3), ``y`` is (500, 1). ``epoch`` counts the items
    read so far, so the grader can tell whether training looked at the data.
    """

    def __init__(self, model, points: int = splits.PERCEPTRON_POINTS):
        x = np.hstack([np.random.randn(points, 2), np.ones((points, 1))])
        y = np.where(x[:, 0] + 2 * x[:, 1] - 1 >= 0, 1.0, -1.0)[:, None]
        super().__init__(x, y)
        self.model = model
        self.epoch = 0  # the course's name; it counts items read, not passes

    def _after_reading(self, count: int) -> None:
        self.epoch += count
        super()._after_reading(count)


class RegressionDataset(Custom_Dataset):
    """200 evenly spaced x in [-2pi, 2pi] (shuffled, fixed seed) with y = sin(x).

    ``x`` and ``y`` are (200, 1).
    """

    def __init__(self, model, points: int = splits.REGRESSION_POINTS):
        x = np.linspace(*splits.REGRESSION_RANGE, num=points)[:, None]
        np.random.RandomState(0).shuffle(x)
        super().__init__(x, np.sin(x))
        self.model = model


def _accuracy(model, inputs: torch.Tensor, labels: np.ndarray, name: str) -> float:
    """Fraction of rows where the argmax of ``model(inputs)`` equals ``labels``."""
    with evaluating(model), torch.no_grad():
        logits = model_output(model, inputs)
    if logits is None:
        raise TypeError(f"{name}.forward returned None; it must return the scores tensor")
    predicted = logits.argmax(dim=-1).numpy(force=True)
    return float(np.mean(predicted == labels))


class DigitClassificationDataset(Custom_Dataset):
    """MNIST: 60000 training digits, and the 10000 test digits split in two.

    Attributes:
        x: (60000, 784) float32 pixels in [0, 1] (28x28 images, row by row).
        y: (60000, 10) float32 one-hot labels.
        dev_images, test_images: (5000, 784) float32; the even and odd rows of
            MNIST's test set.
        dev_labels, test_labels: (5000,) int64 digits.

    ``get_validation_accuracy()`` scores ``self.model`` on the dev half (and keeps
    each value, with the epochs read before it, in ``validation_history``). The test
    half is what the autograder scores.
    """

    def __init__(self, model, data_dir=None):
        data = load_data_file("mnist.npz", data_dir)
        super().__init__(data["train_images"] / np.float32(255),
                         _one_hot(data["train_labels"], 10))
        test_images = data["test_images"].astype(np.float32) / np.float32(255)
        test_labels = data["test_labels"].astype(np.int64)
        dev, test = splits.MNIST_DEV_ROWS, splits.MNIST_TEST_ROWS
        self.dev_images, self.dev_labels = test_images[dev], test_labels[dev]
        self.test_images, self.test_labels = test_images[test], test_labels[test]
        self.model = model

    def get_validation_accuracy(self) -> float:
        return self._remember_validation(_accuracy(
            self.model, torch.from_numpy(self.dev_images), self.dev_labels,
            type(self.model).__name__))


class DigitClassificationDataset2(DigitClassificationDataset):
    """A small MNIST subset for the convolutional network of q5, so that a
    ``Convolve`` written with Python loops trains in a minute or two.

    As the course has it, the model trains on the first 200 MNIST training digits
    (``x``, ``y``), and ``get_validation_accuracy()`` measures it on those same 200
    digits (``dev_images``/``dev_labels`` are they): it tells how well the model fits
    what it trains on, which is what q5 grades (80%). ``test_images``/``test_labels``
    are 500 digits from MNIST's test set that it never sees; the autograder reports
    the accuracy on them for information, to show fitting against generalising.

    ``held_out=True`` is the setting for instructors who grade on unseen digits: the
    model trains on the first 1000 training digits, and the dev digits are 200 digits
    of MNIST's test set (its dev half), none of them in training.
    """

    def __init__(self, model, data_dir=None, held_out: bool = False):
        super().__init__(model, data_dir)
        size = splits.Q5_HELD_OUT_TRAIN_SIZE if held_out else splits.Q5_TRAIN_SIZE
        self.x = self.x[:size].copy()  # copies, so the full set is freed
        self.y = self.y[:size].copy()
        if held_out:
            self.dev_images = self.dev_images[:splits.Q5_DEV_SIZE]
            self.dev_labels = self.dev_labels[:splits.Q5_DEV_SIZE]
        else:
            self.dev_images, self.dev_labels = self.x, self.y.argmax(axis=1)
        self.test_images = self.test_images[:splits.Q5_TEST_SIZE]
        self.test_labels = self.test_labels[:splits.Q5_TEST_SIZE]
        self.held_out = held_out


class LanguageIDDataset(Custom_Dataset):
    """Words in five languages, for the recurrent network of q4.

    Attributes (numpy arrays, as in data/lang_id.npz):
        chars: (47,) the alphabet; character i is one-hot index i.
        language_codes, language_names: (5,) e.g. 'fi', 'Finnish'.
        train_x, dev_x, test_x: (rows, 10) int64 character indices, padded with -1,
            rows sorted by word length.
        train_y, dev_y, test_y: (rows,) int64 language indices.
        train_buckets, dev_buckets, test_buckets: (lengths, 2) int64 [start, end)
            row ranges holding words of one length.

    Items are ``{'x': (10, 47), 'label': (5,)}``: the word one-hot encoded, with
    all-zero rows after its last letter. A DataLoader batch is therefore
    (B, 10, 47); ``movedim(batch['x'], 0, 1)`` gives the (10, B, 47) the model
    expects (one (B, 47) slice per letter).
    """

    def __init__(self, model, data_dir=None):
        data = load_data_file("lang_id.npz", data_dir)
        missing = LANGUAGE_ID_KEYS.difference(data)
        if missing:
            raise DataFileError(f"The data file lang_id.npz lacks {sorted(missing)}; it is "
                                "damaged. Restore data/lang_id.npz from a fresh download.")
        for key in LANGUAGE_ID_KEYS:
            setattr(self, key, data[key])
        self.model = model
        self.num_chars = len(self.chars)
        self.monitor = None
        # Items are cut from these, with Custom_Dataset's __getitem__ and __getitems__.
        self._x_tensor = self._one_hot_words(self.train_x)                # (N, 10, 47)
        self._y_tensor = torch.from_numpy(_one_hot(self.train_y, len(self.language_names)))

    # The numpy arrays x and y of Custom_Dataset are the padded index arrays here.
    @property
    def x(self) -> np.ndarray:
        return self.train_x

    @property
    def y(self) -> np.ndarray:
        return self.train_y

    def _one_hot_words(self, rows: np.ndarray) -> torch.Tensor:
        rows = torch.from_numpy(np.ascontiguousarray(rows))
        out = torch.zeros(*rows.shape, self.num_chars + 1)                # (N, L, 48)
        out.scatter_(2, (rows % (self.num_chars + 1)).unsqueeze(2), 1.0)  # -1 -> column 47
        return out[:, :, :self.num_chars].contiguous()                   # (N, L, 47)

    def _encode(self, x_rows: np.ndarray, y_rows: np.ndarray):
        """One-hot encode rows of equal-length words, without padding.

        Args:
            x_rows: (B, 10) character indices padded with -1; every row must hold
                a word of the same length L.
            y_rows: (B,) language indices.
        Returns:
            xs: (L, B, 47) float32 tensor, one (B, 47) slice per letter.
            y: (B, 5) float32 one-hot tensor.
        """
        x_rows = np.asarray(x_rows)
        lengths = (x_rows >= 0).sum(axis=1)
        if len(x_rows) == 0 or (lengths != lengths[0]).any():
            raise ValueError("_encode needs a non-empty batch of words of equal length; "
                             f"got lengths {sorted(set(lengths.tolist()))}")
        words = self._one_hot_words(x_rows[:, :lengths[0]])               # (B, L, 47)
        labels = torch.from_numpy(_one_hot(np.asarray(y_rows), len(self.language_names)))
        return words.movedim(0, 1).contiguous(), labels                   # (L, B, 47)

    def predict(self, split: str = "dev", padded: bool = False) -> np.ndarray:
        """Class probabilities (rows, 5) of ``self.model`` on a split.

        With ``padded=False`` words are run bucket by bucket, each at its true
        length ((L, B, 47) batches); with ``padded=True`` every word is run padded
        with all-zero letters to 10, exactly as the training items are ((10, B, 47)).
        """
        x, buckets = getattr(self, f"{split}_x"), getattr(self, f"{split}_buckets")
        probabilities = np.zeros((len(x), len(self.language_names)), dtype=np.float32)
        if padded:   # one batch per bucket keeps the batches as small as at true length
            batches = [(start, end, self._one_hot_words(x[start:end]).movedim(0, 1))
                       for start, end in buckets]                         # (10, B, 47)
        else:
            batches = [(start, end, self._encode(x[start:end], np.zeros(end - start, int))[0])
                       for start, end in buckets]                         # (L, B, 47)
        with evaluating(self.model), torch.no_grad():
            for start, end, xs in batches:
                logits = model_output(self.model, xs)
                if logits is None:
                    raise TypeError("LanguageIDModel.forward returned None; it must "
                                    "return the (batch_size, 5) scores tensor")
                probabilities[start:end] = torch.softmax(logits, dim=-1).numpy(force=True)
        return probabilities

    def accuracy(self, split: str = "dev") -> float:
        """The fraction of a split's words classified correctly, as the autograder
        measures it: words are scored both at their true length and padded to 10
        letters like the training items, and the better of the two counts (a model
        trained on padded items may expect the padding; one trained bucket by
        bucket at true lengths may not)."""
        labels = getattr(self, f"{split}_y")
        return max(float(np.mean(self.predict(split, padded=padded).argmax(axis=1) == labels))
                   for padded in (False, True))

    def get_validation_accuracy(self) -> float:
        """Accuracy on the dev words, measured as ``accuracy`` explains."""
        return self._remember_validation(self.accuracy("dev"))


def watch(dataset, refresh_per_second: float = 4.0, save_to=None) -> bool:
    """Draw a live picture of ``dataset.model`` while it trains on ``dataset``.

    The picture depends on the dataset (the perceptron's boundary, the fitted sine,
    digit confidences, spotlight words) and is refreshed at most
    ``refresh_per_second`` times a second, as the training loop reads batches (in
    the main process: with ``DataLoader(num_workers > 0)`` nothing is drawn).
    Returns False, drawing nothing, for a dataset without a picture, or where no
    display is available and ``save_to`` (a PNG path, rewritten at each refresh)
    is not given. Call ``unwatch(dataset)`` to stop.
    """
    from grader.figures.live import monitor_for  # matplotlib is imported only here

    unwatch(dataset)
    monitor = monitor_for(dataset, refresh_per_second=refresh_per_second, save_to=save_to)
    dataset.monitor = monitor
    return monitor is not None


def unwatch(dataset) -> None:
    """Stop the live picture started by ``watch``: the window closes, and a PNG
    given as ``save_to`` keeps the final frame."""
    monitor, dataset.monitor = getattr(dataset, "monitor", None), None
    if monitor is not None:
        monitor.close()
