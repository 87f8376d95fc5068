"""Bulk grading throughput, and the single run's footprint on a Gradescope-sized
machine.

1. ``python -m grader bulk`` over N copies of the staff reference, with --jobs 1 and
   with --jobs 2, side by side: submissions per minute.
2. One full ``autograder.py`` run of the reference pinned to one core
   (``taskset -c 0``), as Gradescope's half-CPU container runs it: wall time, and the
   peak of the judge's and its sandboxes' resident memory added together (sampled
   from /proc every 0.1 s), against Gradescope's 768 MB.

    python benchmarks/bulk_throughput.py                 # 4 copies, all questions
    python benchmarks/bulk_throughput.py --copies 2 --questions q1,q6
    python benchmarks/bulk_throughput.py --isolation none   # warm start against fresh
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference"


def bulk_rate(folder: Path, out: Path, jobs: int, questions: str | None,
              extra: list[str]) -> float:
    command = [sys.executable, "-m", "grader", "bulk", str(folder), "--out", str(out),
               "--jobs", str(jobs), "--force", *extra]
    if questions:
        command += ["-q", questions]
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    minutes = (time.monotonic() - started) / 60
    return len(list(folder.iterdir())) / minutes


def tree_rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory of ``pid`` and all its descendants, in MB (Linux): their resident
    sets added together, and their proportional sets (``Pss``: a page shared by n of
    them counts 1/n in each, as forks of the warm start share torch's pages)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, proportional, stack = 0, 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        proportional += _pss(current)
        stack += children.get(current, [])
    return total / 2**20, proportional / 2**20


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def one_core_run(questions: str | None, extra: list[str]) -> tuple[float, float, float]:
    command = ["taskset", "-c", "0", sys.executable, str(ROOT / "autograder.py"),
               "--student-dir", str(REFERENCE), "--no-graphics", "--mute", *extra]
    if questions:
        command += ["-q", questions]
    started, peak, peak_pss = time.monotonic(), 0.0, 0.0
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    while process.poll() is None:
        resident, proportional = tree_rss_mb(process.pid)
        peak, peak_pss = max(peak, resident), max(peak_pss, proportional)
        time.sleep(0.1)
    return time.monotonic() - started, peak, peak_pss


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4,
                        help="copies of the reference to bulk-grade (default: 4)")
    parser.add_argument("--questions", default=None,
                        help="grade only these questions, e.g. q1,q6 (default: all)")
    parser.add_argument("--isolation", default="auto",
                        help="bulk's --isolation; with none or user, --jobs 2 and the "
                             "one-core run also without the warm start (--no-warm-start), "
                             "side by side")
    args = parser.parse_args(argv)
    isolation = ["--isolation", args.isolation]
    variants = [("", [])] if args.isolation not in ("none", "user") else [
        (" (warm start)", []), (" (--no-warm-start)", ["--no-warm-start"])]

    with tempfile.TemporaryDirectory() as folder:
        submissions = Path(folder) / "submissions"
        for index in range(args.copies):
            shutil.copytree(REFERENCE, submissions / f"student{index:03d}")
        for jobs, (label, extra) in [(1, variants[0]), *((2, variant) for variant in variants)]:
            rate = bulk_rate(submissions, Path(folder) / f"out{jobs}{len(extra)}", jobs,
                             args.questions, [*isolation, *extra])
            print(f"bulk --jobs {jobs}{label}: {rate:.2f} submissions per minute "
                  f"({args.copies} copies of the reference, --isolation {args.isolation})",
                  flush=True)
    for label, extra in variants:
        seconds, peak, peak_pss = one_core_run(args.questions, [*isolation, *extra])
        print(f"one full run on one core{label}: {seconds:.0f} s, peak memory (judge + "
              f"sandboxes) {peak:.0f} MB resident, {peak_pss:.0f} MB proportional", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
