"""What bubblewrap costs: the start-up of one question's sandbox and a full autograder
run of the staff reference, with and without ``--isolation bwrap``, side by side.

Start-up: the sandbox's Python started and importing what every question imports
(numpy, torch, the grader's sandbox module), bare and inside the same bubblewrap
command line a question gets, alternated ``--starts`` times (median and spread). Set
up, once per autograder run: the public copy of the staff code with the labels
blanked, and the trial sandbox. Full run: ``autograder.py`` on tests/reference with
``--isolation none`` and ``--isolation bwrap``, alternated ``--rounds`` times, with
the points each earned (they must be equal).

    python benchmarks/bwrap_cost.py                      # all questions, one round
    python benchmarks/bwrap_cost.py --questions q1,q6 --starts 5   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference"
sys.path.insert(0, str(ROOT))

from grader.core import lifetime  # noqa: E402
from grader.judge import bubblewrap, confinement  # noqa: E402
from grader.judge.data import JudgeData  # noqa: E402
from grader.judge.runner import BOOTSTRAP  # noqa: E402

IMPORTS = "import numpy, torch, grader.sandbox.main"


def start_up(starts: int) -> dict[str, list[float]]:
    """Seconds to start the sandbox's Python and its imports, bare and in bubblewrap."""
    timings: dict[str, list[float]] = {"none": [], "bwrap": []}
    data = JudgeData(ROOT / "data")
    chosen, _ = confinement.choose("bwrap", None, ROOT, data)
    try:
        code = chosen.public_code
        inner = [sys.executable, "-c", BOOTSTRAP.split("from")[0].format(root=str(code))
                 + IMPORTS]
        env = lifetime.without_parent(dict(os.environ))
        for _ in range(starts):
            with chosen.job_folder() as folder:
                prepared = chosen.prepare(Path(folder), REFERENCE, ROOT, graphics=False)
                for mode, command in (("none", inner), ("bwrap", prepared.wrap(inner))):
                    started = time.perf_counter()
                    subprocess.run(command, cwd=REFERENCE, env=dict(env, **prepared.env),
                                   check=True, stdin=subprocess.DEVNULL)
                    timings[mode].append(time.perf_counter() - started)
    finally:
        chosen.close()
    return timings


def set_up() -> tuple[float, float]:
    """Seconds to choose each mode once, as autograder.py does at its start."""
    data = JudgeData(ROOT / "data")
    seconds = []
    for mode in ("none", "bwrap"):
        started = time.perf_counter()
        chosen, _ = confinement.choose(mode, None, ROOT, data)
        seconds.append(time.perf_counter() - started)
        chosen.close()
    return seconds[0], seconds[1]


def full_run(mode: str, questions: str | None) -> tuple[float, dict]:
    """(seconds, points per question) of one autograder run of the reference."""
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder) / "r.json"
        command = [sys.executable, str(ROOT / "autograder.py"), "--student-dir",
                   str(REFERENCE), "--no-graphics", "--mute", "--json", str(results),
                   "--isolation", mode]
        command += ["-q", questions] if questions else []
        started = time.monotonic()
        subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
        seconds = time.monotonic() - started
        points = {q: v["points"] for q, v in json.loads(results.read_text())["questions"].items()}
    return seconds, points


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=20,
                        help="sandbox start-ups timed per mode (default: 20)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="full runs per mode, alternated (default: 1)")
    parser.add_argument("--questions", default=None,
                        help="grade only these questions, e.g. q1,q6 (default: all)")
    args = parser.parse_args(argv)
    if bubblewrap.find() is None:
        print("bubblewrap is not installed: " + bubblewrap.INSTALL_ADVICE, file=sys.stderr)
        return 2

    timings = start_up(args.starts)
    print(f"Sandbox start-up, Python with numpy and torch imported ({args.starts} each):")
    for mode, seconds in timings.items():
        print(f"  {mode:6s} median {statistics.median(seconds) * 1000:7.1f} ms   "
              f"min {min(seconds) * 1000:7.1f}   max {max(seconds) * 1000:7.1f}")
    extra = statistics.median(timings["bwrap"]) - statistics.median(timings["none"])
    print(f"  bubblewrap adds {extra * 1000:.1f} ms per question")
    plain, wrapped = set_up()
    print(f"Set-up once per run: none {plain * 1000:.0f} ms, bwrap {wrapped * 1000:.0f} ms "
          "(public copy with blanked labels, and the trial sandbox)")

    runs: dict[str, list[float]] = {"none": [], "bwrap": []}
    points: dict[str, dict] = {}
    for _ in range(args.rounds):
        for mode in runs:
            seconds, points[mode] = full_run(mode, args.questions)
            runs[mode].append(seconds)
    print(f"Full reference run ({args.questions or 'all questions'}, "
          f"{args.rounds} round(s)):")
    for mode, seconds in runs.items():
        print(f"  {mode:6s} {statistics.median(seconds):7.1f} s   points "
              f"{sum(points[mode].values()):g}  {points[mode]}")
    same = "the same" if points["none"] == points["bwrap"] else "DIFFERENT"
    print(f"  points with and without bubblewrap: {same}")
    return 0 if same == "the same" else 1


if __name__ == "__main__":
    sys.exit(main())
