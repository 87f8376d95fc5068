"""Every assignment's staff solution through ``python -m grader calibrate``: each
thresholded check's figure over seeds 0..N-1 (min, median, max), the pass rate and the
worst seed's margin to the threshold. The figures step 17's retry policy is set from.

    python benchmarks/calibrate_staff.py                       # 10 seeds, every course
    python benchmarks/calibrate_staff.py --seeds 2 --courses current --questions q1,q2
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# depth-width's staff networks train for minutes per seed: fewer seeds by default.
COURSES = ("current", "models-only-q6", "first-networks", "mlp-from-scratch", "depth-width")
SEEDS_FOR = {"depth-width": 3}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per question (default "
                        "10; depth-width 3 unless given)")
    parser.add_argument("--courses", default=",".join(COURSES),
                        help="comma-separated assignments (default: every one)")
    parser.add_argument("--questions", default="", help="-q for every course (default all)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    args = parser.parse_args(argv)
    given = "--seeds" in " ".join(sys.argv[1:] if argv is None else argv)
    status = 0
    with tempfile.TemporaryDirectory(prefix="calibrate-staff-") as scratch:
        for course in args.courses.split(","):
            seeds = args.seeds if given else SEEDS_FOR.get(course, args.seeds)
            command = [sys.executable, "-m", "grader", "calibrate", "--course", course,
                       "--seeds", str(seeds), "--out", str(Path(scratch, course)),
                       "--isolation", "none", "--jobs", str(args.jobs)]
            if args.questions:
                command += ["-q", args.questions]
            print(f"\n{course}: seeds 0-{seeds - 1}", flush=True)
            started = time.monotonic()
            process = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
            lines = [line for line in process.stdout.splitlines()
                     if not line.startswith("wrote ")]
            print("\n".join(lines))
            notes = [line for line in process.stderr.splitlines() if "note:" in line]
            print("\n".join(notes) + ("\n" if notes else "")
                  + f"({time.monotonic() - started:.0f} s, {args.jobs} runs at once)",
                  flush=True)
            status = status or process.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
