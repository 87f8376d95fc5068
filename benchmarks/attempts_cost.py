"""What the retry policy (``--attempts``, default 3) costs on a full run: the course's
staff solution (every question passes: no attempt is repeated), a solution that fails
two training checks near their thresholds on every seed (each of them is trained
three times) and one that fails them far from their thresholds (out of reach: trained
once). Each is graded with ``--attempts 1`` and with ``--attempts 3``, side by side in
one run, at the default ``-j``; the table gives the run's wall-clock time, the points
and each question's seconds.

    python benchmarks/attempts_cost.py
    python benchmarks/attempts_cost.py --questions q2,q3 --solutions staff,near
    python benchmarks/attempts_cost.py --busy          # beside one busy process
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))   # _busy.py, beside this file
from _busy import beside_busy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STAFF = ROOT / "tests" / "reference"

# Appended to the staff train.py. near: q2's fit shifted by 0.16 (an error of about
# 0.027 against 0.02) and q3 stopped at 96% validation accuracy (against 97% on the
# test set); far: q2 and q3 never trained.
NEAR = '''
_q2_well = train_regression


def train_regression(model, dataset):
    _q2_well(model, dataset)
    with no_grad():
        model.output.bias += 0.16


def train_digitclassifier(model, dataset):
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    loader = DataLoader(dataset, batch_size=100, shuffle=True)
    while True:
        for step, batch in enumerate(loader):
            optimizer.zero_grad()
            digitclassifier_loss(model(batch["x"]), batch["label"]).backward()
            optimizer.step()
            if step % 50 == 49 and dataset.get_validation_accuracy() >= 0.96:
                return
'''
FAR = '''
def train_regression(model, dataset):
    pass


def train_digitclassifier(model, dataset):
    pass
'''
SOLUTIONS = {"staff": "", "near": NEAR, "far": FAR}


def make(name: str, where: Path) -> Path:
    folder = where / name
    shutil.copytree(STAFF, folder, ignore=shutil.ignore_patterns("__pycache__"))
    if SOLUTIONS[name]:
        train = folder / "train.py"
        train.write_text(train.read_text(encoding="utf-8") + SOLUTIONS[name], encoding="utf-8")
    return folder


def grade(folder: Path, attempts: int, questions: str, scratch: Path) -> dict:
    results = scratch / f"{folder.name}-{attempts}.json"
    command = [sys.executable, str(ROOT / "autograder.py"), "--student-dir", str(folder),
               "--no-graphics", "--mute", "--isolation", "none", "--json", str(results),
               "--attempts", str(attempts)]
    if questions:
        command += ["-q", questions]
    started = time.monotonic()
    subprocess.run(command, cwd=scratch, capture_output=True, text=True, timeout=3600,
                   env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    wall = time.monotonic() - started
    data = json.loads(results.read_text(encoding="utf-8"))
    return {"wall": wall, "points": data["total"],
            "questions": {qid: (q.get("seconds"), len(q.get("attempts") or []) or 1)
                          for qid, q in data["questions"].items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", default="", help="-q (default: a full run)")
    parser.add_argument("--solutions", default=",".join(SOLUTIONS),
                        help=f"comma-separated, of {', '.join(SOLUTIONS)}")
    parser.add_argument("--busy", action="store_true", help="beside one busy process")
    args = parser.parse_args(argv)
    names = [name for name in args.solutions.split(",") if name]
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
          + (", beside one busy process" if args.busy else ""))
    with beside_busy(args.busy):
        with tempfile.TemporaryDirectory(prefix="attempts-cost-") as scratch:
            rows = []
            for name in names:
                folder = make(name, Path(scratch))
                for attempts in (1, 3):
                    found = grade(folder, attempts, args.questions, Path(scratch))
                    rows.append((name, attempts, found))
                    per = "  ".join(f"{qid} {seconds:.1f} s" + (f" ({n} tries)" if n > 1 else "")
                                    for qid, (seconds, n) in found["questions"].items())
                    print(f"{name:<6} --attempts {attempts}: {found['wall']:6.1f} s, "
                          f"{found['points']} points | {per}", flush=True)
            print("\nextra time of --attempts 3 over --attempts 1 (wall clock):")
            for name in names:
                once, three = (found for n, a, found in rows if n == name)
                print(f"  {name:<6} {three['wall'] - once['wall']:+6.1f} s "
                      f"({three['wall'] / once['wall']:.2f}x)")
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
