"""Train the staff reference solutions (or any solution folder) directly through the
datasets, for several seeds, and print each question's measured figure next to its
threshold.

    python benchmarks/reference_margins.py                 # seeds 0 1 2
    python benchmarks/reference_margins.py --seeds 5 6 7 8 --json margins.json
    python benchmarks/reference_margins.py --code-dir path/to/solution --questions q3 q4

No grader is involved: this measures the solutions and the datasets alone.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import backend  # noqa: E402  (after the path set-up above)
from grader.assignments.course.table import QUESTIONS_BY_ID  # noqa: E402


def _threshold(question: str, name: str) -> float:
    return QUESTIONS_BY_ID[question].thresholds[name]


# question: (what is measured, the grader's threshold (from its table), better when
# 'higher'/'lower')
MEASURES = {
    "q1": ("training accuracy", _threshold("q1", "training_accuracy"), "higher"),
    "q2": ("mean squared error", _threshold("q2", "max_mse"), "lower"),
    "q3": ("test accuracy", _threshold("q3", "min_accuracy"), "higher"),
    "q4": ("test accuracy", _threshold("q4", "min_accuracy"), "higher"),
    "q5": ("accuracy, trained digits", _threshold("q5", "min_accuracy"), "higher"),
    "q6": ("max error vs reference", _threshold("q6", "tolerance"), "lower"),
}


def _accuracy(model, images, labels) -> float:
    with torch.no_grad():
        return float((model(torch.tensor(images)).argmax(dim=1).numpy() == labels).mean())


def measure(question: str, models, train) -> float:
    if question == "q1":
        model = models.PerceptronModel(3)
        dataset = backend.PerceptronDataset(model)
        train.train_perceptron(model, dataset)
        weights = model.get_weights().detach().numpy()
        return float(np.mean(np.where(dataset.x @ weights.T >= 0, 1, -1) == dataset.y))
    if question == "q2":
        model = models.RegressionModel()
        dataset = backend.RegressionDataset(model)
        train.train_regression(model, dataset)
        with torch.no_grad():
            return float(np.mean((model(torch.tensor(dataset.x)).numpy() - dataset.y) ** 2))
    if question == "q3":
        model = models.DigitClassificationModel()
        dataset = backend.DigitClassificationDataset(model)
        train.train_digitclassifier(model, dataset)
        return _accuracy(model, dataset.test_images, dataset.test_labels)
    if question == "q4":
        model = models.LanguageIDModel()
        dataset = backend.LanguageIDDataset(model)
        train.train_languageid(model, dataset)
        return dataset.accuracy("test")
    if question == "q5":
        model = models.DigitConvolutionalModel()
        dataset = backend.DigitClassificationDataset2(model)
        train.train_digitconvolution(model, dataset)
        # The course's criterion (the table's scored_on): the digits it trained on.
        return _accuracy(model, dataset.x, dataset.y.argmax(axis=1))
    if question == "q6":
        block = models.AttentionBlock(16, 10)
        x = torch.randn(3, 7, 16)
        with torch.no_grad():
            q, k, v = block.q_layer(x), block.k_layer(x), block.v_layer(x)
            scores = (q @ k.transpose(1, 2) / 4.0).masked_fill(
                torch.tril(torch.ones(7, 7)) == 0, float("-inf"))
            expected = torch.softmax(scores, dim=-1) @ v
            return float((block(x) - expected).abs().max())
    raise ValueError(question)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="seeds to train with (default: 0 1 2)")
    parser.add_argument("--questions", nargs="+", default=list(MEASURES),
                        choices=list(MEASURES), help="questions to measure (default: all)")
    parser.add_argument("--code-dir", type=Path, default=ROOT / "tests" / "reference",
                        help="folder with models.py, losses.py, train.py (default: the "
                             "staff reference solutions)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(args.code_dir.resolve()))
    import models  # noqa: E402  (from --code-dir)
    import train  # noqa: E402
    if args.threads:
        torch.set_num_threads(args.threads)

    figures = {q: [] for q in args.questions}
    seconds = {q: [] for q in args.questions}
    for seed in args.seeds:
        for question in args.questions:
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)
            started = time.perf_counter()
            figures[question].append(measure(question, models, train))
            seconds[question].append(time.perf_counter() - started)
            print(f"seed {seed} {question}: {MEASURES[question][0]} "
                  f"{figures[question][-1]:.4g} ({seconds[question][-1]:.1f} s)", flush=True)

    print(f"\n{'question':<9}{'measure':<24}{'worst':>10}{'mean':>10}{'threshold':>11}"
          f"{'s/run':>8}")
    for question in args.questions:
        name, threshold, better = MEASURES[question]
        worst = min(figures[question]) if better == "higher" else max(figures[question])
        print(f"{question:<9}{name:<24}{worst:>10.4g}{np.mean(figures[question]):>10.4g}"
              f"{threshold:>11.4g}{np.mean(seconds[question]):>8.1f}")
    print(f"total training time per seed: {sum(np.mean(s) for s in seconds.values()):.1f} s")
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "seconds": seconds}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
