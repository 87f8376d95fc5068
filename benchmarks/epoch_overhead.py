"""How much of a training epoch is spent fetching data?

For the digit and language-ID datasets, prints the seconds of one epoch of pure
``DataLoader(dataset, batch_size=64, shuffle=True)`` iteration, the seconds of one
epoch of training the staff reference model on the same loader (data included), and
their ratio. For comparison it also times the per-item path (one ``__getitem__`` call
per example, as a dataset without ``__getitems__`` would be read).

    python benchmarks/epoch_overhead.py
    python benchmarks/epoch_overhead.py --repeats 3 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "reference"))
sys.path.insert(1, str(ROOT))

import backend  # noqa: E402
import losses  # noqa: E402  (the reference solution's)
import models  # noqa: E402


def iterate(dataset, batch_size: int) -> float:
    started = time.perf_counter()
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=True):
        batch["x"], batch["label"]
    return time.perf_counter() - started


def train_epoch(model, dataset, loss_fn, batch_size: int, letters_first: bool) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    started = time.perf_counter()
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=True):
        x, y = batch["x"], batch["label"]
        if letters_first:
            x = torch.movedim(x, 0, 1)
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    return time.perf_counter() - started


class PerItem(torch.utils.data.Dataset):
    """The same dataset read one item at a time (no batched fetch)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.dataset[index]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Data-loading cost versus training cost per epoch.")
    parser.add_argument("--repeats", type=int, default=2, help="epochs timed per figure (median)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    cases = [
        ("digits (q3)", backend.DigitClassificationDataset(None), models.DigitClassificationModel,
         losses.digitclassifier_loss, False),
        ("language ID (q4)", backend.LanguageIDDataset(None), models.LanguageIDModel,
         losses.languageid_loss, True),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch size "
          f"{args.batch_size}, median of {args.repeats} epochs\n")
    print(f"{'dataset':<18}{'data s/epoch':>13}{'train s/epoch':>15}{'data/train':>12}"
          f"{'per-item data s':>17}")
    for name, dataset, model_class, loss_fn, letters_first in cases:
        data = statistics.median(iterate(dataset, args.batch_size) for _ in range(args.repeats))
        per_item = statistics.median(iterate(PerItem(dataset), args.batch_size)
                                     for _ in range(args.repeats))
        model = model_class()
        trained = statistics.median(train_epoch(model, dataset, loss_fn, args.batch_size,
                                                letters_first) for _ in range(args.repeats))
        print(f"{name:<18}{data:>13.3f}{trained:>15.3f}{data / trained:>12.1%}{per_item:>17.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
