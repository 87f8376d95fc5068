"""Does the autograder change what a student's training produces? Grade a solution
with ``autograder.py -q Q --seed S`` and train the same code directly, as a
student's own script would (seed torch, numpy and random; build the model and the
dataset; call the training function; measure), with the seed and thread count the
sandbox uses for that training step, then print both figures side by side.

    python benchmarks/graded_vs_direct.py                      # q2 q3 q4, seeds 0 1 2
    python benchmarks/graded_vs_direct.py --questions q4 --seeds 0 1 2 3 4 \\
        --code-dir path/to/solution

Equal figures mean the grading path (sandbox, sanity steps, evaluation) leaves the
student's training exactly as it is in their own script.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.assignments.course.table import QUESTIONS_BY_ID  # noqa: E402
from grader.core.wiring import load_definition  # noqa: E402
from grader.judge.grading import Settings, question_seed, sandbox_threads  # noqa: E402
from grader.sandbox.main import step_seed  # noqa: E402

# question: (model, dataset, training function, what the grader's metric is)
SETUPS = {
    "q2": ("RegressionModel", "RegressionDataset", "train_regression", "mean squared error"),
    "q3": ("DigitClassificationModel", "DigitClassificationDataset", "train_digitclassifier",
           "test accuracy"),
    "q4": ("LanguageIDModel", "LanguageIDDataset", "train_languageid", "test accuracy"),
}


def training_seed(question: str, seed: int) -> int:
    """The seed the sandbox sets just before the question's training step."""
    steps = list(load_definition(QUESTIONS_BY_ID[question].module).steps)
    return step_seed(question_seed(seed, question), steps.index("train") + 1)


def direct(question: str, code_dir: Path, seed: int, threads: int) -> float:
    """Train as a student's script would and return the grader's metric."""
    import numpy as np
    import torch
    sys.path.insert(0, str(code_dir.resolve()))
    import backend
    import models
    import train
    torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    model_name, dataset_name, train_name, _ = SETUPS[question]
    model = getattr(models, model_name)()
    dataset = getattr(backend, dataset_name)(model)
    getattr(train, train_name)(model, dataset)
    model.eval()
    with torch.no_grad():
        if question == "q2":
            x = np.linspace(-2 * np.pi, 2 * np.pi, len(dataset.x))[:, None].astype(np.float32)
            predictions = model(torch.from_numpy(x)).double().numpy()
            return float(np.mean((predictions - np.sin(x.astype(np.float64))) ** 2))
        if question == "q3":
            logits = model(torch.from_numpy(dataset.test_images)).numpy()
            return float(np.mean(logits.argmax(axis=1) == dataset.test_labels))
    return dataset.accuracy("test")


def graded(question: str, code_dir: Path, seed: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "r.json"
        subprocess.run([sys.executable, str(ROOT / "autograder.py"), "-q", question,
                        "--seed", str(seed), "--student-dir", str(code_dir), "--no-graphics",
                        "--mute", "--json", str(output)], check=True, capture_output=True)
        tests = json.loads(output.read_text())["tests"]
    return next(t["metric"] for t in tests if t["check"] == "train")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", nargs="+", default=list(SETUPS), choices=list(SETUPS),
                        help="questions to compare (default: q2 q3 q4)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="autograder --seed values (default: 0 1 2)")
    parser.add_argument("--code-dir", type=Path, default=ROOT / "tests" / "reference",
                        help="the solution folder (default: the staff reference)")
    parser.add_argument("--direct", nargs=2, metavar=("QUESTION", "SEED"),
                        help=argparse.SUPPRESS)   # one direct run, in a fresh interpreter
    args = parser.parse_args(argv)

    if args.direct:
        question, seed = args.direct[0], int(args.direct[1])
        threads = sandbox_threads(QUESTIONS_BY_ID[question], Settings(ROOT, ROOT))
        print(json.dumps(direct(question, args.code_dir, seed, threads)))
        return 0

    print(f"{'question':<9}{'seed':>5}{'metric':>20}{'graded':>12}{'direct':>12}  same")
    for question in args.questions:
        for seed in args.seeds:
            threads = sandbox_threads(QUESTIONS_BY_ID[question], Settings(ROOT, ROOT))
            env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONHASHSEED="0")
            process = subprocess.run(
                [sys.executable, __file__, "--code-dir", str(args.code_dir), "--direct",
                 question, str(training_seed(question, seed))],
                check=True, capture_output=True, text=True, cwd=args.code_dir, env=env)
            alone = json.loads(process.stdout.strip().splitlines()[-1])
            grade = graded(question, args.code_dir, seed)
            print(f"{question:<9}{seed:>5}{SETUPS[question][3]:>20}{grade:>12.6g}"
                  f"{alone:>12.6g}  {'yes' if grade == alone else 'NO'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
