"""How long does "depth-width" take to grade? Its time limits come from here.

By default: the staff solution's networks (tests/reference_depth_width/) trained as
its ``train_model`` trains them, on one torch thread and on two, with the seconds
and the accuracy on the 5000 test digits students have. Problem 3G asks for exactly
10 epochs of batch size 32; pin the benchmark to the cores you measure:

    taskset -c 0 python benchmarks/depth_width_speed.py --threads 1
    taskset -c 0,1 python benchmarks/depth_width_speed.py --threads 2

``--graded-seeds 0 1 2`` instead grades the staff solution's networks with
``autograder.py --seed S`` and prints the test accuracies the grader measured (the
margins over 97.5%, 98%, 98.3% and 98.5%) and the seconds of each question.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))     # the support modules import grader
sys.path.insert(0, str(ROOT / "tests" / "reference_depth_width"))
sys.path.insert(1, str(ROOT / "grader" / "assignments" / "depth_width" / "support"))

import depth_width_data  # noqa: E402
import networks  # noqa: E402  (tests/reference_depth_width/networks.py)

QUESTIONS = {"q2c": "model_100", "q2d": "model_200", "q2e": "model_1000", "q3g": "cnn"}


def graded(seeds: list[int]) -> None:
    print("seed  " + "  ".join(f"{q:>14}" for q in QUESTIONS))
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            results = Path(tmp, "results.json")
            subprocess.run([sys.executable, str(ROOT / "autograder.py"), "--student-dir",
                            str(ROOT / "tests" / "reference_depth_width"), "-q",
                            ",".join(QUESTIONS), "--seed", str(seed), "--no-graphics",
                            "--mute", "-j", "1", "--json", str(results)],
                           check=True, capture_output=True)
            found = json.loads(results.read_text())
        accuracy = {t["question"]: t["metric"] for t in found["tests"] if t["check"] == "accuracy"}
        seconds = {q: found["questions"][q]["seconds"] for q in QUESTIONS}
        print(f"{seed:4}  " + "  ".join(f"{accuracy[q]:7.2%} {seconds[q]:5.0f}s"
                                        for q in QUESTIONS), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--models", nargs="+", default=list(QUESTIONS.values()),
                        choices=list(QUESTIONS.values()))
    parser.add_argument("--graded-seeds", type=int, nargs="+", metavar="SEED")
    args = parser.parse_args()
    if args.graded_seeds:
        graded(args.graded_seeds)
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    train_data, test_data = depth_width_data.load_mnist()
    print(f"torch threads: {args.threads}")
    for name in args.models:
        model = getattr(networks, name)()
        started = time.perf_counter()
        networks.train_model(model, train_data)
        seconds = time.perf_counter() - started
        parameters = sum(p.numel() for p in model.parameters())
        print(f"{name:11} {parameters:8,} parameters  {seconds:6.1f} s  "
              f"{networks.accuracy(model, test_data):.2%}", flush=True)


if __name__ == "__main__":
    main()
