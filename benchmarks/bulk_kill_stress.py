"""Stress check: ``python -m grader bulk`` killed with SIGKILL at random moments.

Each round starts a bulk run into a fresh OUT, kills it with ``kill -9`` after a random
delay, at once starts the same command again (so that the rerun races whatever the
killed run left), and then checks, by process id (with start times), that every
process of the killed run has ended within ``--grace`` seconds, that the rerun exits
with 0 and writes the CSV an uninterrupted run writes, and that ``OUT/.work`` holds
nothing but its lock. It prints one line per round and the count of clean rounds.

    python benchmarks/bulk_kill_stress.py                 # 20 rounds
    python benchmarks/bulk_kill_stress.py --rounds 5 --seed 1
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers import make_submission, process_tree, still_running, wait_for  # noqa: E402

QUESTIONS = ["-q", "q1,q6", "--jobs", "2"]


def bulk_command(submissions: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "grader", "bulk", str(submissions), "--out", str(out),
            *QUESTIONS]


def environment() -> dict:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DISPLAY", None)
    return env


def table(out: Path) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    for row in rows:
        row.pop("seconds")
    return rows


def one_round(submissions: Path, out: Path, delay: float, expected: list[dict],
              grace: float) -> str:
    """'' when the round was clean, else what went wrong."""
    killed = subprocess.Popen(bulk_command(submissions, out), cwd=ROOT, env=environment(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    tree = process_tree(killed.pid)
    killed.kill()
    killed.wait()
    rerun = subprocess.Popen(bulk_command(submissions, out), cwd=ROOT, env=environment(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: not still_running(tree), grace)
    left = still_running(tree)
    _, stderr = rerun.communicate(timeout=900)
    problems = []
    if left:
        problems.append(f"{len(left)} process(es) of the killed run still running after "
                        f"{grace:g} s: {sorted(pid for pid, _ in left)}")
    if rerun.returncode != 0:
        problems.append(f"the rerun exited with {rerun.returncode}: {stderr.strip()[-300:]}")
    elif table(out) != expected:
        problems.append("the rerun's CSV differs from an uninterrupted run's")
    leftovers = sorted(p.name for p in (out / ".work").iterdir()) if (out / ".work").exists() \
        else []
    if leftovers != ["bulk.lock"]:
        problems.append(f"OUT/.work holds {leftovers}")
    return "; ".join(problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="for the random delays")
    parser.add_argument("--grace", type=float, default=10.0,
                        help="seconds the killed run's processes get to end")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="kill-stress-") as folder:
        base = Path(folder)
        submissions = base / "submissions"
        for name in ("alice", "bob", "carol", "dan"):
            make_submission(submissions / name)
        make_submission(submissions / "erin", {"models.py": "def broken(:\n    pass"})
        started = time.monotonic()
        reference = base / "uninterrupted"
        subprocess.run(bulk_command(submissions, reference), cwd=ROOT, env=environment(),
                       check=True, capture_output=True)
        whole = time.monotonic() - started
        expected = table(reference)
        print(f"an uninterrupted run takes {whole:.1f} s; killing at random moments "
              f"within it, {args.rounds} rounds (seed {args.seed})")
        clean = 0
        for number in range(1, args.rounds + 1):
            delay = rng.uniform(0.2, whole * 0.95)
            problem = one_round(submissions, base / f"round{number}", delay, expected,
                                args.grace)
            clean += not problem
            print(f"round {number:2d}: killed after {delay:5.1f} s: "
                  f"{'clean' if not problem else 'FAILED: ' + problem}", flush=True)
        print(f"{clean} of {args.rounds} rounds clean")
    return 0 if clean == args.rounds else 1


if __name__ == "__main__":
    sys.exit(main())
