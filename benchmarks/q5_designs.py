"""How long does q5 (the convolutional digit model) take to train, for the staff
reference and for typical student designs?

q5 trains on the first 200 MNIST training digits and is scored on those same 200
digits (threshold 80%); the accuracy on 500 held-out digits (MNIST test rows
1, 3, 5, ..., i.e. the first 500 rows of ``DigitClassificationDataset.test_images``)
is reported for information. For each design and seed this prints the seconds of
training (including any accuracy checks the training loop itself makes), the
epochs run, the accuracy on the 200 training digits, the accuracy on the 500
held-out digits, and the seconds it takes to score the 200 training digits once
(what a grader spends after training). The final table gives per design the worst
and mean training seconds, so a time limit can be chosen with a margin.

Designs:
    reference           tests/reference (shift-and-add Convolve, 676-128-10, batch 50,
                        Adam 2e-3, 12 epochs)
    loops-pixel         two Python loops over output pixels, Linear(676, 10),
                        batch 1, Adam 1e-3, 3 epochs
    loops-pixel-2layer  same Convolve, 676-128-10, batch 10, Adam 1e-3, until 98%
                        accuracy on the 200 training digits (checked per epoch),
                        at most 50 epochs
    loops-kernel        loops over kernel entries (sum of shifted slices),
                        676-64-10, batch 64, Adam 1e-3, 10 epochs
    stack-list          list of lists of 0-d tensors joined with torch.stack,
                        Linear(676, 10), batch 32, Adam 1e-3, 5 epochs

The machine may be shared, so the load average is printed at start and end. For a
one-core figure run it pinned to one core:

    taskset -c 0 python benchmarks/q5_designs.py
    taskset -c 0 python benchmarks/q5_designs.py --designs reference loops-kernel --seeds 0
    taskset -c 0 python benchmarks/q5_designs.py --json q5_designs.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import Linear, Module, Parameter
from torch.nn.functional import cross_entropy, relu
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parent.parent
# The reference folder goes first so that `models` and `train` (and the `losses`
# that the reference train.py imports) are the staff solutions, not the skeleton.
sys.path.insert(0, str(ROOT / "tests" / "reference"))
sys.path.insert(1, str(ROOT))

import backend  # noqa: E402  (after the path set-up above)
import models as reference_models  # noqa: E402  (tests/reference/models.py)
import train as reference_train  # noqa: E402  (tests/reference/train.py)

TRAIN_SIZE = 200      # q5 trains and is scored on the first 200 MNIST training digits
HELD_OUT_SIZE = 500   # first 500 of MNIST's odd test rows, reported for information
THRESHOLD = 0.80      # accuracy on the training digits the grader asks for
REFERENCE_EPOCHS = 12  # fixed in tests/reference/train.py (no early stop for q5)


# --- Convolve as students write it ---------------------------------------------

def convolve_loops_pixel(input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """One Python iteration per output pixel: the most naive version."""
    H, W = input.shape
    h, w = weight.shape
    output = torch.zeros(H - h + 1, W - w + 1)                    # (H-h+1, W-w+1)
    for i in range(H - h + 1):
        for j in range(W - w + 1):
            # In-place writes into a tensor that then needs grad: autograd records
            # one CopySlices node per pixel, which is what makes backward slow too.
            output[i, j] = (input[i:i + h, j:j + w] * weight).sum()
    return output                                                  # (H-h+1, W-w+1)


def convolve_loops_kernel(input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """One Python iteration per kernel entry: h*w shifted slices summed."""
    H, W = input.shape
    h, w = weight.shape
    out_h, out_w = H - h + 1, W - w + 1
    output = torch.zeros(out_h, out_w)                             # (out_h, out_w)
    for a in range(h):
        for b in range(w):
            output = output + weight[a, b] * input[a:a + out_h, b:b + out_w]
    return output                                                  # (out_h, out_w)


def convolve_stack_list(input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """A list of lists of 0-d tensors, joined at the end with torch.stack."""
    H, W = input.shape
    h, w = weight.shape
    rows = []
    for i in range(H - h + 1):
        row = []
        for j in range(W - w + 1):
            row.append(torch.sum(input[i:i + h, j:j + w] * weight))  # () each
        rows.append(torch.stack(row))                            # (W-w+1,)
    # torch.stack keeps the graph; torch.tensor(rows) would silently cut it off
    # from the weight, so the (graded) design uses stack.
    return torch.stack(rows)                                       # (H-h+1, W-w+1)


CONVOLVES = {
    "loops-pixel": convolve_loops_pixel,
    "loops-kernel": convolve_loops_kernel,
    "stack-list": convolve_stack_list,
}


class StudentConvModel(Module):
    """Convolve each 28x28 image with a learned 3x3 kernel, then one or two Linears.

    ``hidden`` None gives Linear(676, 10); a number gives 676-hidden-relu-10.
    """

    def __init__(self, convolve, hidden: int | None):
        super().__init__()
        self.convolve = convolve
        self.convolution_weights = Parameter(torch.ones(3, 3))
        # Attributes (not a plain list) so that .parameters() finds the Linears.
        self.hidden = None if hidden is None else Linear(26 * 26, hidden)
        self.output = Linear(26 * 26 if hidden is None else hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(len(x), 28, 28)                                       # (B, 28, 28)
        # One Convolve call per image, as students do.
        x = torch.stack([self.convolve(image, self.convolution_weights)
                         for image in x])                                   # (B, 26, 26)
        x = x.flatten(start_dim=1)                                          # (B, 676)
        if self.hidden is not None:
            x = relu(self.hidden(x))                                        # (B, hidden)
        return self.output(x)                                               # (B, 10)


# name: (Convolve, hidden units or None, batch size, max epochs, learning rate,
#        stop once the 200 training digits reach this accuracy, or None)
STUDENT_DESIGNS = {
    "loops-pixel": ("loops-pixel", None, 1, 3, 1e-3, None),
    "loops-pixel-2layer": ("loops-pixel", 128, 10, 50, 1e-3, 0.98),
    "loops-kernel": ("loops-kernel", 64, 64, 10, 1e-3, None),
    "stack-list": ("stack-list", None, 32, 5, 1e-3, None),
}
DESIGNS = ["reference", *STUDENT_DESIGNS]


def accuracy(model: Module, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``images`` (N, 784) whose argmax score equals ``labels`` (N,)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        predicted = model(torch.from_numpy(images)).argmax(dim=1).numpy()  # (N,)
    model.train(was_training)
    return float(np.mean(predicted == labels))


def train_student(model: Module, dataset, batch_size: int, max_epochs: int, lr: float,
                  stop_at: float | None, labels: np.ndarray) -> int:
    """A typical student loop: Adam, cross-entropy, optional early stop on the
    training digits' accuracy after each epoch. Returns the epochs run."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    dataloader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    for epoch in range(1, max_epochs + 1):
        for batch in dataloader:
            x, y = batch["x"], batch["label"]                   # (B, 784), (B, 10)
            optimizer.zero_grad()
            loss = cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        # The check is part of the student's training, so it is timed with it.
        if stop_at is not None and accuracy(model, dataset.x, labels) >= stop_at:
            return epoch
    return max_epochs


def run_design(design: str, seed: int, dataset, train_labels: np.ndarray,
               held_out_images: np.ndarray, held_out_labels: np.ndarray) -> dict:
    """Build and train one design with one seed; time it and score it."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also drives DataLoader's shuffling
    started = time.perf_counter()
    if design == "reference":
        model = reference_models.DigitConvolutionalModel()
        # _fit asks dataset.get_validation_accuracy() only when stop_at_accuracy is
        # given, and train_digitconvolution does not give it, so a plain
        # Custom_Dataset (which has no validation split) is enough.
        reference_train.train_digitconvolution(model, dataset)
        epochs = REFERENCE_EPOCHS
    else:
        convolve, hidden, batch_size, max_epochs, lr, stop_at = STUDENT_DESIGNS[design]
        model = StudentConvModel(CONVOLVES[convolve], hidden)
        epochs = train_student(model, dataset, batch_size, max_epochs, lr, stop_at,
                               train_labels)
    seconds = time.perf_counter() - started

    scoring_started = time.perf_counter()
    train_accuracy = accuracy(model, dataset.x, train_labels)
    score_seconds = time.perf_counter() - scoring_started
    return {
        "design": design,
        "seed": seed,
        "seconds": seconds,
        "epochs": epochs,
        "train_accuracy": train_accuracy,
        "held_out_accuracy": accuracy(model, held_out_images, held_out_labels),
        "score_seconds": score_seconds,
    }


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", nargs="+", default=DESIGNS, choices=DESIGNS,
                        help="designs to time (default: all)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="seeds to train each design with (default: 0 1 2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default: 1, for a one-core figure)")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write every run's figures as JSON to this file")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    wall_started = time.perf_counter()
    print(f"load average at start (1, 5, 15 min): {load_average()}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"CPUs allowed: {len(os.sched_getaffinity(0))}", flush=True)

    digits = backend.DigitClassificationDataset(None)
    # Copies, so the 60000-row arrays are not kept alive by views.
    dataset = backend.Custom_Dataset(digits.x[:TRAIN_SIZE].copy(),
                                     digits.y[:TRAIN_SIZE].copy())
    train_labels = dataset.y.argmax(axis=1)                        # (200,)
    held_out_images = digits.test_images[:HELD_OUT_SIZE].copy()    # (500, 784)
    held_out_labels = digits.test_labels[:HELD_OUT_SIZE].copy()    # (500,)
    del digits

    runs = []
    for design in args.designs:
        for seed in args.seeds:
            run = run_design(design, seed, dataset, train_labels, held_out_images,
                             held_out_labels)
            runs.append(run)
            print(f"{design:<20} seed {seed}: {run['seconds']:7.1f} s, "
                  f"{run['epochs']:2d} epochs, train {run['train_accuracy']:.3f}, "
                  f"held-out {run['held_out_accuracy']:.3f}, "
                  f"scoring 200 digits {run['score_seconds']:.2f} s", flush=True)

    print(f"\n{'design':<20}{'worst s':>9}{'mean s':>9}{'epochs':>9}"
          f"{'worst train':>13}{'mean held-out':>15}{'score s':>9}")
    for design in args.designs:
        mine = [run for run in runs if run["design"] == design]
        seconds = [run["seconds"] for run in mine]
        epochs = sorted({run["epochs"] for run in mine})
        epochs_text = str(epochs[0]) if len(epochs) == 1 else f"{epochs[0]}-{epochs[-1]}"
        print(f"{design:<20}{max(seconds):>9.1f}{np.mean(seconds):>9.1f}"
              f"{epochs_text:>9}{min(run['train_accuracy'] for run in mine):>13.3f}"
              f"{np.mean([run['held_out_accuracy'] for run in mine]):>15.3f}"
              f"{max(run['score_seconds'] for run in mine):>9.2f}")
    print(f"(threshold on the {TRAIN_SIZE} training digits: {THRESHOLD:.0%}; "
          f"seeds {' '.join(map(str, args.seeds))}; {args.threads} torch thread(s))")
    wall = time.perf_counter() - wall_started
    print(f"load average at end (1, 5, 15 min): {load_average()}")
    print(f"total wall time: {wall:.0f} s")

    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "wall_seconds": wall,
                                         "threads": args.threads}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
