"""backend.py: datasets exactly as the spec's interface describes them."""

import hashlib

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import backend


class Lookup(torch.nn.Module):
    """Answers with the class stored for each input row (by content), or class 0."""

    def __init__(self, rows, labels, classes):
        super().__init__()
        self.answers = {self.key(r): int(l) for r, l in zip(rows, labels)}
        self.classes = classes
        self.lengths_seen = []

    @staticmethod
    def key(row):
        return hashlib.sha1(np.ascontiguousarray(np.asarray(row, dtype=np.float32)).tobytes()).hexdigest()

    def forward(self, x):
        if x.dim() == 3:                                # language ID: (L, B, 47)
            self.lengths_seen.append(x.shape[0])
            x = x.movedim(0, 1).reshape(x.shape[1], -1)
        out = torch.zeros(len(x), self.classes)
        for i, row in enumerate(x):
            out[i, self.answers.get(self.key(row.numpy()), 0)] = 1.0
        return out


@pytest.fixture(scope="module")
def digits():
    return backend.DigitClassificationDataset(None)


@pytest.fixture(scope="module")
def language():
    return backend.LanguageIDDataset(None)


def test_perceptron_dataset():
    np.random.seed(3)
    dataset = backend.PerceptronDataset(None)
    assert dataset.x.shape == (500, 3) and dataset.x.dtype == np.float32
    assert dataset.y.shape == (500, 1) and dataset.y.dtype == np.float32
    assert (dataset.x[:, 2] == 1).all()
    rule = np.where(dataset.x[:, 0] + 2 * dataset.x[:, 1] - 1 >= 0, 1.0, -1.0)
    assert (dataset.y[:, 0] == rule).all()
    assert dataset.epoch == 0
    item = dataset[0]
    assert item["x"].dtype == torch.float32 and item["x"].shape == (3,)
    assert item["label"].shape == (1,)
    batch = next(iter(DataLoader(dataset, batch_size=1, shuffle=True)))
    assert batch["x"].shape == (1, 3) and batch["label"].shape == (1, 1)
    assert dataset.epoch == 2                              # one item, then a batch of one
    for _ in DataLoader(dataset, batch_size=50, shuffle=True):
        pass
    assert dataset.epoch == 502


def test_regression_dataset():
    dataset = backend.RegressionDataset(None)
    assert dataset.x.shape == dataset.y.shape == (200, 1)
    assert np.allclose(np.sort(dataset.x[:, 0]), np.linspace(-2 * np.pi, 2 * np.pi, 200), atol=1e-6)
    assert not (np.diff(dataset.x[:, 0]) > 0).all()        # shuffled...
    assert np.array_equal(dataset.x, backend.RegressionDataset(None).x)  # ...with a fixed seed
    assert np.allclose(dataset.y, np.sin(dataset.x), atol=1e-6)


def test_batched_and_single_reads_agree():
    dataset = backend.RegressionDataset(None)
    batch = dataset.__getitems__([5, 2, 7])
    for index, item in zip([5, 2, 7], batch):
        assert torch.equal(item["x"], dataset[index]["x"])
        assert torch.equal(item["label"], dataset[index]["label"])


def test_digit_dataset(digits):
    mnist = np.load(backend.DATA_DIR / "mnist.npz")
    assert digits.x.shape == (60000, 784) and digits.x.dtype == np.float32
    assert 0 <= digits.x.min() and digits.x.max() == 1
    assert digits.y.shape == (60000, 10) and digits.y.dtype == np.float32
    assert (digits.y.argmax(axis=1) == mnist["train_labels"]).all() and (digits.y.sum(1) == 1).all()
    for name, rows in (("dev", slice(0, None, 2)), ("test", slice(1, None, 2))):
        images, labels = getattr(digits, f"{name}_images"), getattr(digits, f"{name}_labels")
        assert images.shape == (5000, 784) and images.dtype == np.float32
        assert labels.shape == (5000,) and labels.dtype.kind == "i"
        assert (labels == mnist["test_labels"][rows]).all()
    logits = torch.nn.Linear(784, 10)(torch.tensor(digits.test_images))  # as graders do
    assert logits.shape == (5000, 10)
    batch = next(iter(DataLoader(digits, batch_size=64, shuffle=True)))
    assert batch["x"].shape == (64, 784) and batch["label"].shape == (64, 10)
    assert batch["x"].dtype == batch["label"].dtype == torch.float32


def test_validation_accuracy_uses_the_dev_split(digits):
    digits.model = Lookup(digits.dev_images, digits.dev_labels, 10)
    assert digits.get_validation_accuracy() == 1.0
    digits.model = Lookup(digits.test_images, digits.test_labels, 10)
    assert digits.get_validation_accuracy() < 0.2           # knowing test answers does not help


def test_subset_for_convolutions_validates_on_its_training_digits_as_the_course_does(digits):
    subset = backend.DigitClassificationDataset2(None)
    assert subset.x.shape == (200, 784) and subset.y.shape == (200, 10)
    assert np.array_equal(subset.dev_images, subset.x)
    assert np.array_equal(subset.dev_labels, subset.y.argmax(axis=1))
    assert subset.dev_labels.dtype == np.int64 and subset.test_images.shape == (500, 784)
    assert subset.x.dtype == subset.test_images.dtype == np.float32
    training = {Lookup.key(row) for row in subset.x}
    assert not training & {Lookup.key(row) for row in subset.test_images}


def test_held_out_subset_for_convolutions_is_disjoint(digits):
    subset = backend.DigitClassificationDataset2(None, held_out=True)
    assert subset.x.shape == (1000, 784) and subset.y.shape == (1000, 10)
    assert subset.dev_images.shape == (200, 784) and subset.test_images.shape == (500, 784)
    training = {Lookup.key(row) for row in subset.x}
    assert not training & {Lookup.key(row) for row in subset.test_images}
    assert not training & {Lookup.key(row) for row in subset.dev_images}


def test_language_dataset_attributes(language):
    assert len(language.chars) == 47 and language.chars.dtype.kind == "U"
    assert list(language.language_names) == ["English", "Spanish", "Finnish", "Dutch", "Polish"]
    assert len(language.language_codes) == 5
    for split, rows in (("train", 17500), ("dev", 500), ("test", 500)):
        assert getattr(language, f"{split}_x").shape == (rows, 10)
        assert getattr(language, f"{split}_y").shape == (rows,)
        assert getattr(language, f"{split}_buckets").shape[1] == 2
    assert len(language) == 17500


def test_language_items_are_padded_one_hot_words(language):
    index = int(language.train_buckets[2, 0])          # a short word: padding present
    item = language[index]
    assert item["x"].shape == (10, 47) and item["label"].shape == (5,)
    word = "".join(language.chars[i] for i in language.train_x[index] if i >= 0)
    letters = item["x"].argmax(dim=1)[:len(word)]
    assert "".join(language.chars[i] for i in letters) == word
    assert (item["x"][:len(word)].sum(dim=1) == 1).all() and (item["x"][len(word):] == 0).all()
    assert item["label"].argmax() == language.train_y[index] and item["label"].sum() == 1
    batch = next(iter(DataLoader(language, batch_size=32, shuffle=True)))
    assert batch["x"].shape == (32, 10, 47) and batch["x"].dtype == torch.float32
    assert torch.movedim(batch["x"], 0, 1).shape == (10, 32, 47)


def test_language_encode(language):
    start, end = language.dev_buckets[-1]
    xs, y = language._encode(language.dev_x[start:end], language.dev_y[start:end])
    length = int((language.dev_x[start] >= 0).sum())
    assert xs.shape == (length, end - start, 47) and y.shape == (end - start, 5)
    with pytest.raises(ValueError, match="equal length"):
        language._encode(language.dev_x[[0, -1]], language.dev_y[[0, -1]])


def test_language_validation_uses_dev_words_at_their_true_length(language):
    rows, answers = [], []
    for start, end in language.dev_buckets:
        xs, _ = language._encode(language.dev_x[start:end], language.dev_y[start:end])
        flat = xs.movedim(0, 1).reshape(end - start, -1).numpy()
        rows.extend(flat)
        answers.extend(language.dev_y[start:end])
    language.model = Lookup(rows, answers, 5)
    assert language.get_validation_accuracy() == 1.0
    assert sorted(set(language.model.lengths_seen)) == sorted(
        {int((language.dev_x[s] >= 0).sum()) for s, _ in language.dev_buckets})


def test_custom_dataset_errors():
    dataset = backend.Custom_Dataset(np.zeros((4, 2)), np.ones((4, 1)))
    assert dataset.x.dtype == np.float32 and len(dataset) == 4
    with pytest.raises(NotImplementedError, match="no validation split"):
        dataset.get_validation_accuracy()
    with pytest.raises(ValueError, match="2-D"):
        backend.Custom_Dataset(np.zeros(4), np.ones((4, 1)))
    with pytest.raises(ValueError, match="must match"):
        backend.Custom_Dataset(np.zeros((4, 2)), np.ones((3, 1)))


def test_missing_or_damaged_data_file_gives_one_clear_message(tmp_path):
    with pytest.raises(backend.DataFileError, match=r"mnist.npz is missing\. Restore it"):
        backend.DigitClassificationDataset(None, data_dir=tmp_path)
    (tmp_path / "lang_id.npz").write_bytes(b"this is not a zip file")
    with pytest.raises(backend.DataFileError, match=r"lang_id.npz is damaged .*Restore it") as info:
        backend.LanguageIDDataset(None, data_dir=tmp_path)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_reading_items_draws_nothing_without_watch():
    dataset = backend.RegressionDataset(None)
    assert dataset.monitor is None
    for _ in DataLoader(dataset, batch_size=20):
        pass
    assert dataset.monitor is None


@pytest.mark.parametrize("name,x_shape,label_shape", [
    ("PerceptronDataset", (8, 3), (8, 1)),
    ("RegressionDataset", (8, 1), (8, 1)),
    ("DigitClassificationDataset", (8, 784), (8, 10)),
    ("DigitClassificationDataset2", (8, 784), (8, 10)),
    ("LanguageIDDataset", (8, 10, 47), (8, 5)),
])
def test_a_dataloader_batch_from_each_dataset(name, x_shape, label_shape):
    dataset = getattr(backend, name)(None)
    batch = next(iter(DataLoader(dataset, batch_size=8, shuffle=True)))
    assert set(batch) == {"x", "label"}
    assert tuple(batch["x"].shape) == x_shape and tuple(batch["label"].shape) == label_shape
    assert batch["x"].dtype == batch["label"].dtype == torch.float32
