"""How long does "mlp-from-scratch" train, for the honest designs its writeup allows?
The time limits of q3 (the MLP) and q5 (the CNN) come from here.

Designs, each trained on the project's 50000 training digits with the writeup's
settings (batches of 256, learning rate 0.001, summed cross-entropy gradients):

    batched     the staff solution: forward and back-propagation over a whole batch
    per-example one example at a time: forward(x) and update_grad(y) per image,
                update_params once per batch (the writeup's loop, vectorised per image)
    jacobians   one example at a time with the writeup's explicit Jacobian matrices
                (da2/dW2 as a 10 x 640 matrix, and so on), the slowest honest way
    cnn         the staff solution's CNN (Adam, batches of 256)

For each it prints the seconds per epoch (on one core, as the autograder's sandbox
runs: pin the benchmark with taskset) and the test accuracy after a number of epochs.

    taskset -c 0 python benchmarks/mlp_from_scratch_speed.py
    taskset -c 0 python benchmarks/mlp_from_scratch_speed.py --designs jacobians --epochs 1

``--graded-seeds 0 1 2 3 4`` instead grades the staff solution's q3 and q5 with
``autograder.py --seed S`` and prints the test accuracies the grader measured (the
staff solution's margins over the marks, 90% and 98%).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))     # the support modules import grader
sys.path.insert(0, str(ROOT / "tests" / "reference_mlp_from_scratch"))
sys.path.insert(1, str(ROOT / "grader" / "assignments" / "mlp_from_scratch" / "support"))

import cnn  # noqa: E402  (tests/reference_mlp_from_scratch/cnn.py)
import mlp  # noqa: E402  (tests/reference_mlp_from_scratch/mlp.py)
import mlp_data  # noqa: E402


class JacobianMLP(mlp.MLP):
    """The staff MLP with back-propagation through explicit Jacobian matrices, one
    example at a time, as the writeup derives them."""

    def update_grad(self, y):
        x, f1, y_hat = self.x[0], self.f1[0], self.y_hat[0]
        dl_da2 = (y_hat - y).reshape(1, 10)                         # (1, 10)
        da2_dw2 = np.zeros((10, 10 * 64))                           # (10, 640)
        for i in range(10):
            da2_dw2[i, i * 64:(i + 1) * 64] = f1
        da2_df1 = self.W2                                           # (10, 64)
        df1_da1 = np.diag(f1 * (1 - f1))                            # (64, 64)
        da1_dw1 = np.zeros((64, 64 * 784))                          # (64, 50176)
        for j in range(64):
            da1_dw1[j, j * 784:(j + 1) * 784] = x
        dl_da1 = dl_da2 @ da2_df1 @ df1_da1                         # (1, 64)
        self.W2_grad += (dl_da2 @ da2_dw2).reshape(10, 64)
        self.b2_grad += dl_da2[0]
        self.W1_grad += (dl_da1 @ da1_dw1).reshape(64, 784)
        self.b1_grad += dl_da1[0]


def train_per_example(model, dataset, epochs: int) -> None:
    for _ in range(epochs):
        for images, labels in dataset.batches(256):
            model.reset_grad()
            for x, y in zip(images, labels):
                model.forward(x)
                model.update_grad(y)
            model.update_params(0.001)


def run(design: str, epochs: int, seed: int) -> tuple[float, float]:
    np.random.seed(seed)
    torch.manual_seed(seed)
    data = mlp_data.load_digits()
    started = time.perf_counter()
    if design == "batched":
        model = mlp.MLP()
        mlp.train_mlp(model, data, epochs=epochs)
    elif design == "per-example":
        model = mlp.MLP()
        train_per_example(model, data, epochs)
    elif design == "jacobians":
        model = JacobianMLP()
        train_per_example(model, data, epochs)
    else:
        model = cnn.CNN()
        cnn.train_cnn(model, data, epochs=epochs)
    seconds = time.perf_counter() - started
    return seconds / epochs, data.accuracy(model, "test")


def graded(seeds: list[int]) -> None:
    print("seed  q3 MLP   q5 CNN   seconds")
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            results = Path(tmp, "results.json")
            started = time.perf_counter()
            subprocess.run([sys.executable, str(ROOT / "autograder.py"), "--student-dir",
                            str(ROOT / "tests" / "reference_mlp_from_scratch"), "-q", "q3,q5",
                            "--seed", str(seed), "--no-graphics", "--mute", "-j", "1",
                            "--json", str(results)], check=True, capture_output=True)
            seconds = time.perf_counter() - started
            tests = json.loads(results.read_text())["tests"]
        found = {t["question"]: t["metric"] for t in tests if t["check"] == "accuracy"}
        print(f"{seed:4}  {found['q3']:.2%}  {found['q5']:.2%}  {seconds:7.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", nargs="+", default=["batched", "per-example",
                                                         "jacobians", "cnn"],
                        choices=["batched", "per-example", "jacobians", "cnn"])
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per design (default: 20 batched, 3 per-example, "
                             "1 jacobians, 12 cnn)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--graded-seeds", type=int, nargs="+", metavar="SEED",
                        help="grade the staff solution with these seeds instead")
    args = parser.parse_args()
    if args.graded_seeds:
        graded(args.graded_seeds)
        return
    torch.set_num_threads(1)
    defaults = {"batched": 20, "per-example": 3, "jacobians": 1, "cnn": 12}
    print(f"{'design':12} seed epochs  s/epoch  test accuracy")
    for design in args.designs:
        epochs = args.epochs or defaults[design]
        for seed in args.seeds:
            per_epoch, accuracy = run(design, epochs, seed)
            print(f"{design:12} {seed:4} {epochs:6} {per_epoch:8.1f}  {accuracy:.2%}", flush=True)


if __name__ == "__main__":
    main()
