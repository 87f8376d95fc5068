"""A full autograder run of the staff reference with -j 1 against the default -j,
side by side: wall time and the peak of the judge's and its sandboxes' resident
memory added together (sampled from /proc every 0.1 s). Also -j 1 pinned to one core
(``taskset -c 0``), Gradescope's size, against its 768 MB.

    python benchmarks/parallel_questions.py              # idle machine
    python benchmarks/parallel_questions.py --busy       # beside one busy process
    python benchmarks/parallel_questions.py --rounds 2 --questions q1,q2,q6
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bulk_throughput import REFERENCE, ROOT, tree_rss_mb  # noqa: E402


def full_run(jobs: str | None, questions: str | None, pinned: bool = False):
    """(seconds, peak MB, total points) of one autograder run of the reference."""
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder) / "r.json"
        command = [sys.executable, str(ROOT / "autograder.py"), "--student-dir",
                   str(REFERENCE), "--no-graphics", "--mute", "--json", str(results)]
        command += ["-j", jobs] if jobs else []
        command += ["-q", questions] if questions else []
        if pinned:
            command = ["taskset", "-c", "0", *command]
        started, peak = time.monotonic(), 0.0
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
        while process.poll() is None:
            peak = max(peak, tree_rss_mb(process.pid))
            time.sleep(0.1)
        seconds = time.monotonic() - started
        total = json.loads(results.read_text())["total"] if results.exists() else None
    return seconds, peak, total


def _spin() -> None:
    while True:
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate the two variants this many times (default: 1)")
    parser.add_argument("--questions", default=None,
                        help="grade only these questions, e.g. q1,q2 (default: all)")
    parser.add_argument("--busy", action="store_true",
                        help="run beside one process that keeps a core busy")
    args = parser.parse_args(argv)

    busy = multiprocessing.Process(target=_spin, daemon=True) if args.busy else None
    if busy:
        busy.start()
    try:
        for round_number in range(args.rounds):
            for label, jobs in (("-j 1", "1"), ("default -j", None)):
                seconds, peak, total = full_run(jobs, args.questions)
                print(f"round {round_number + 1}, {label}: {seconds:.1f} s, peak memory "
                      f"(judge + sandboxes) {peak:.0f} MB, total {total}", flush=True)
        if not args.busy:
            seconds, peak, total = full_run("1", args.questions, pinned=True)
            print(f"-j 1 on one core (taskset -c 0): {seconds:.1f} s, peak memory "
                  f"{peak:.0f} MB, total {total}")
    finally:
        if busy:
            busy.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
