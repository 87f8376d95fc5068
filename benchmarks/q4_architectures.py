"""Compare recurrent architectures a student might write for q4 (language ID).

Trains each architecture below once per seed on data/lang_id.npz and prints, per
architecture, the mean and worst test accuracy (scored as the grader scores it:
``dataset.accuracy('test')``, the better of each word at its true length and padded
to 10 letters like the training items), the mean dev accuracy (scored the same way)
and the seconds of training per run. ``--true-length-only`` scores at true length
only (how the grader scored before padded scoring was added). It
ends with whether ``plain-rnn-128`` reaches a mean test accuracy of 83%, a margin
above the grader's q4 threshold (read from grader/assignments/course/table.py).

    python benchmarks/q4_architectures.py                        # all, seeds 0-4
    python benchmarks/q4_architectures.py --archs plain-rnn-128 gru --seeds 0 1
    python benchmarks/q4_architectures.py --data some/folder --json q4.json

Architectures (hidden size 128 unless said; Adam; cross-entropy on the one-hot
labels; no early stopping, no learning-rate schedule unless said):

    reference      staff solution, tests/reference: masked ReLU RNN, hidden 256,
                   Adam lr 3e-3 with cosine decay, batch 128, 10 epochs.
    plain-rnn-128  h = relu(W_x x_t + W_h h) over all 10 padded letters (padding
                   rows are zero input, the state keeps changing), output Linear
                   (128, 5); padded DataLoader batches, lr 1e-3, batch 16, 15 epochs.
    bucketed-rnn   the same network, trained bucket by bucket at the words' true
                   lengths (dataset._encode), mini-batches of 32 rows cut inside
                   each bucket, their order shuffled every epoch; lr 1e-3, 10 epochs.
    gru            torch.nn.GRU, last hidden state -> Linear(128, 5); padded
                   DataLoader batches, lr 1e-3, batch 32, 10 epochs.
    torch-rnn      torch.nn.RNN (tanh), same head and training as gru.
    torch-rnn-20   the same, trained for 20 epochs (the writeup: 10-20 epochs); a tanh
                   RNN learns more slowly than a ReLU one and is still underfitting
                   (dev no better than test) after 10.
    masked-rnn-128 plain-rnn-128 that keeps its state once the word has ended (as
                   the reference does), trained exactly like plain-rnn-128.

Only training is timed (not loading the data nor scoring). No grader is involved.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.functional import cross_entropy, relu
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parent.parent
# The reference folder goes first so `models`/`train`/`losses` are the staff
# solution's, not the student skeleton's at the repository root.
sys.path.insert(0, str(ROOT / "tests" / "reference"))
sys.path.insert(1, str(ROOT))

import backend  # noqa: E402  (after the path set-up above)
import models as reference_models  # noqa: E402  (tests/reference/models.py)
import train as reference_train  # noqa: E402  (tests/reference/train.py)
from grader.assignments.course.table import QUESTIONS_BY_ID  # noqa: E402

NUM_CHARS = 47
NUM_LANGUAGES = 5
GATE_ARCH = "plain-rnn-128"
GATE_ACCURACY = 0.83


class PlainRNN(nn.Module):
    """h = relu(W_x x_t + W_h h), then Linear(hidden, 5) on the final state.

    With ``mask_padding`` the state is frozen on all-zero (padding) letters, so a
    padded word ends in the same state as the word run at its true length.
    """

    def __init__(self, hidden: int, mask_padding: bool):
        super().__init__()
        self.letter = nn.Linear(NUM_CHARS, hidden)
        self.recur = nn.Linear(hidden, hidden)
        self.output = nn.Linear(hidden, NUM_LANGUAGES)
        self.hidden = hidden
        self.mask_padding = mask_padding

    def forward(self, xs):                                          # xs: (L, B, 47)
        h = xs.new_zeros(xs.shape[1], self.hidden)                  # (B, hidden)
        for x in xs:                                                # x: (B, 47)
            h_next = relu(self.letter(x) + self.recur(h))           # (B, hidden)
            if self.mask_padding:
                is_letter = x.sum(dim=1, keepdim=True) > 0          # (B, 1)
                h_next = torch.where(is_letter, h_next, h)          # (B, hidden)
            h = h_next
        return self.output(h)                                       # (B, 5)


class TorchRecurrent(nn.Module):
    """torch.nn.GRU or torch.nn.RNN over the letters; the last layer's final hidden
    state goes through Linear(hidden, 5). No masking: on padded input the final
    state is the one after the padding letters."""

    def __init__(self, kind: str, hidden: int):
        super().__init__()
        if kind == "gru":
            self.recurrent = nn.GRU(NUM_CHARS, hidden)
        else:
            self.recurrent = nn.RNN(NUM_CHARS, hidden, nonlinearity="tanh")
        self.output = nn.Linear(hidden, NUM_LANGUAGES)

    def forward(self, xs):                                          # xs: (L, B, 47)
        _, h_n = self.recurrent(xs)                                 # (layers, B, hidden)
        return self.output(h_n[-1])                                 # (B, 5)


def train_padded(model, dataset, epochs: int, lr: float, batch_size: int) -> None:
    """Adam on shuffled DataLoader batches of zero-padded words (all 10 letters).
    Shuffling draws from torch's global generator, seeded by the caller."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    model.train()
    for _ in range(epochs):
        for batch in loader:
            xs = torch.movedim(batch["x"], 0, 1)                    # (10, B, 47)
            optimizer.zero_grad()
            loss = cross_entropy(model(xs), batch["label"])         # one-hot target
            loss.backward()
            optimizer.step()


def train_bucketed(model, dataset, epochs: int, lr: float, batch_size: int,
                   rng: np.random.Generator) -> None:
    """Adam on mini-batches cut inside each length bucket, so every word is seen at
    its true length (as predict() scores it). The rows of a bucket are shuffled and
    the order of all mini-batches is shuffled every epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        batches = []
        for start, end in dataset.train_buckets:
            rows = start + rng.permutation(end - start)             # (bucket rows,)
            batches += [rows[i:i + batch_size] for i in range(0, len(rows), batch_size)]
        for index in rng.permutation(len(batches)):
            rows = batches[index]
            xs, y = dataset._encode(dataset.train_x[rows], dataset.train_y[rows])
            # xs: (L, B, 47) at this bucket's length L; y: (B, 5)
            optimizer.zero_grad()
            loss = cross_entropy(model(xs), y)
            loss.backward()
            optimizer.step()


def _train_reference(model, dataset, rng) -> None:
    reference_train.train_languageid(model, dataset)


# name: (builds the model, trains it on (model, dataset, rng))
ARCHITECTURES = {
    "reference": (
        reference_models.LanguageIDModel,
        _train_reference),
    "plain-rnn-128": (
        lambda: PlainRNN(128, mask_padding=False),
        lambda model, dataset, rng: train_padded(model, dataset, epochs=15, lr=1e-3,
                                                 batch_size=16)),
    "bucketed-rnn": (
        lambda: PlainRNN(128, mask_padding=False),
        lambda model, dataset, rng: train_bucketed(model, dataset, epochs=10, lr=1e-3,
                                                   batch_size=32, rng=rng)),
    "gru": (
        lambda: TorchRecurrent("gru", 128),
        lambda model, dataset, rng: train_padded(model, dataset, epochs=10, lr=1e-3,
                                                 batch_size=32)),
    "torch-rnn": (
        lambda: TorchRecurrent("rnn", 128),
        lambda model, dataset, rng: train_padded(model, dataset, epochs=10, lr=1e-3,
                                                 batch_size=32)),
    "torch-rnn-20": (
        lambda: TorchRecurrent("rnn", 128),
        lambda model, dataset, rng: train_padded(model, dataset, epochs=20, lr=1e-3,
                                                 batch_size=32)),
    "masked-rnn-128": (
        lambda: PlainRNN(128, mask_padding=True),
        lambda model, dataset, rng: train_padded(model, dataset, epochs=15, lr=1e-3,
                                                 batch_size=16)),
}


def accuracy(dataset, split: str, true_length_only: bool = False) -> float:
    """Accuracy on a split as the grader measures it, or with each word run at its
    true length only."""
    if not true_length_only:
        return dataset.accuracy(split)
    predicted = dataset.predict(split).argmax(axis=1)               # (rows,)
    return float(np.mean(predicted == getattr(dataset, f"{split}_y")))


def run_once(arch: str, seed: int, data_dir: Path | None, true_length_only: bool = False) -> dict:
    """Train one architecture from one seed; returns test/dev accuracy and seconds."""
    build, fit = ARCHITECTURES[arch]
    # Seed every generator a student's code might draw from before anything random.
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    model = build()
    dataset = backend.LanguageIDDataset(model, data_dir=data_dir)
    started = time.perf_counter()
    fit(model, dataset, np.random.default_rng(seed))
    seconds = time.perf_counter() - started
    return {"test": accuracy(dataset, "test", true_length_only),
            "dev": accuracy(dataset, "dev", true_length_only),
            "seconds": seconds}


def data_folder(path: Path | None) -> Path | None:
    """The folder to load lang_id.npz from: the dataset takes a folder, so a path to
    a file named lang_id.npz is turned into its folder."""
    if path is None:
        return None
    if path.is_file():
        if path.name != "lang_id.npz":
            raise SystemExit(f"--data: {path} is a file not named lang_id.npz; pass "
                             "the folder holding lang_id.npz")
        return path.parent
    if not (path / "lang_id.npz").is_file():
        raise SystemExit(f"--data: {path} holds no lang_id.npz")
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                        help="seeds to train each architecture with (default: 0 1 2 3 4)")
    parser.add_argument("--archs", type=str, nargs="+", default=list(ARCHITECTURES),
                        choices=list(ARCHITECTURES), metavar="NAME",
                        help="architectures to train, of: " + ", ".join(ARCHITECTURES)
                             + " (default: all)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default: 1)")
    parser.add_argument("--data", type=Path, default=None,
                        help="folder holding a lang_id.npz to use instead of "
                             "data/lang_id.npz (a path to lang_id.npz itself also works)")
    parser.add_argument("--true-length-only", action="store_true",
                        help="score words at their true length only (the grader's scoring "
                             "before padded words were also scored)")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write the per-run figures and the summary here")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    data_dir = data_folder(args.data)
    threshold = QUESTIONS_BY_ID["q4"].thresholds["min_accuracy"]

    runs = {arch: [] for arch in args.archs}
    total_started = time.perf_counter()
    for arch in args.archs:
        for seed in args.seeds:
            runs[arch].append(run_once(arch, seed, data_dir, args.true_length_only))
            run = runs[arch][-1]
            print(f"{arch:<15} seed {seed}: test {run['test']:.4f}  "
                  f"dev {run['dev']:.4f}  ({run['seconds']:.1f} s)", flush=True)
    total_seconds = time.perf_counter() - total_started

    summary = {}
    for arch, arch_runs in runs.items():
        tests = [run["test"] for run in arch_runs]
        summary[arch] = {
            "mean_test": float(np.mean(tests)),
            "worst_test": float(min(tests)),
            "mean_dev": float(np.mean([run["dev"] for run in arch_runs])),
            "seconds_per_run": float(np.mean([run["seconds"] for run in arch_runs])),
            "runs_below_threshold": sum(test < threshold for test in tests),
        }

    print(f"\nq4 grading threshold: test accuracy >= {threshold:.2f}; "
          f"seeds {' '.join(map(str, args.seeds))}; {args.threads} thread(s)")
    print(f"{'architecture':<16}{'mean test':>10}{'worst test':>12}{'mean dev':>10}"
          f"{'s/run':>8}")
    for arch, row in summary.items():
        print(f"{arch:<16}{row['mean_test']:>10.4f}{row['worst_test']:>12.4f}"
              f"{row['mean_dev']:>10.4f}{row['seconds_per_run']:>8.1f}")
    print(f"total wall time: {total_seconds:.0f} s")

    gate = None
    if GATE_ARCH in summary:
        gate = summary[GATE_ARCH]["mean_test"] >= GATE_ACCURACY
        print(f"{GATE_ARCH} mean test accuracy {summary[GATE_ARCH]['mean_test']:.4f} "
              f"{'>=' if gate else '<'} {GATE_ACCURACY:.2f}: gate "
              f"{'PASSED' if gate else 'FAILED'}")
    else:
        print(f"{GATE_ARCH} not run (--archs): gate not measured")

    if args.json:
        args.json.write_text(json.dumps(
            {"threshold": threshold, "seeds": args.seeds, "threads": args.threads,
             "runs": runs, "summary": summary, "total_seconds": total_seconds,
             "gate": {"arch": GATE_ARCH, "min_mean_test": GATE_ACCURACY, "passed": gate}},
            indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
