"""How many torch threads should a question's sandbox use? Times the staff
reference's training for each question with 1 thread and with N threads (default:
the grader's old default, min(4, cores)), on an idle machine and beside one busy
process (as on a student's laptop running something else, or a bulk run), each in
a fresh interpreter, and prints the table the table's ``threads`` come from.

    python benchmarks/threads.py                   # q1-q6, 1 against min(4, cores)
    python benchmarks/threads.py --questions q3 q5 --repeats 3 --json threads.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.assignments.course.table import QUESTIONS_BY_ID  # noqa: E402

BUSY = "while True: pass"


def one_run(question: str, threads: int, seed: int) -> float:
    """Seconds of training one question's reference with ``threads`` threads, in a
    fresh interpreter (so thread pools start as they do in a sandbox)."""
    code = (f"import sys, time, random, numpy, torch; sys.path.insert(0, {str(ROOT)!r}); "
            f"sys.argv = ['x']; torch.set_num_threads({threads}); "
            "from benchmarks import reference_margins as r; "
            f"sys.path.insert(0, {str(ROOT / 'tests' / 'reference')!r}); "
            "import models, train; "
            f"random.seed({seed}); numpy.random.seed({seed}); torch.manual_seed({seed}); "
            f"t = time.perf_counter(); r.measure({question!r}, models, train); "
            "print(time.perf_counter() - t)")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, cwd=ROOT, check=True)
    return float(process.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", nargs="+", default=["q1", "q2", "q3", "q4", "q5", "q6"],
                        help="questions to time (default: q1-q6)")
    parser.add_argument("--many", type=int, default=max(1, min(4, os.cpu_count() or 1)),
                        help="the thread count to compare with 1 (default: min(4, cores))")
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs per setting; the fastest counts (default: 2)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    figures = {}
    for load in ("idle", "busy"):
        busy = subprocess.Popen([sys.executable, "-c", BUSY]) if load == "busy" else None
        try:
            time.sleep(1 if busy else 0)
            for question in args.questions:
                for threads in (1, args.many):
                    seconds = min(one_run(question, threads, seed)
                                  for seed in range(args.repeats))
                    figures[f"{question} {load} {threads}"] = seconds
                    print(f"{question} {load:<5} {threads} thread(s): {seconds:6.1f} s",
                          flush=True)
        finally:
            if busy:
                busy.kill()
                busy.wait()

    many = args.many
    print(f"\n{'question':<9}{'idle 1':>8}{f'idle {many}':>8}{'busy 1':>8}{f'busy {many}':>8}"
          f"{'table':>7}")
    for question in args.questions:
        row = [figures[f"{question} {load} {n}"] for load in ("idle", "busy") for n in (1, many)]
        table = QUESTIONS_BY_ID[question].threads
        print(f"{question:<9}" + "".join(f"{value:>8.1f}" for value in row) + f"{table:>7}")
    print(f"({os.cpu_count()} cores; the fastest of {args.repeats} runs; 'table' is the "
          "thread count grader/assignments/course/table.py gives the question)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
