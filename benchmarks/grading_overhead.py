"""Where a graded question's time goes, beside the same training done directly.

Each question of the staff solution is graded in this process (``Grader`` with
``--isolation`` as given, one question at a time), and its wall-clock time is split
into:

    launch    the judge writing the job, starting the interpreter, up to the
              sandbox's main() (process start-up and the bootstrap)
    imports   the sandbox importing numpy and torch
    setup     the question's definition, its probes, the staff and student modules
    training  the step that trains the student's model (the student's own work)
    checks    every other step (sanity checks, evaluation, figure data)
    exit      from the last step to the judge seeing the sandbox end
    judge     the judge's side: probes, the job folder, verdicts, clean-up

and the sandbox's CPU seconds. ``direct`` trains the same solution in a plain script
(``benchmarks/reference_margins.py --threads 1``, the course only). Then the full
runs: ``autograder.py`` at ``-j 1`` and at the default ``-j`` (wall clock and CPU of
the whole run), and ``-q q1`` alone, with the issue's ratios: the default run against
the 2-core limit (max(training / 2, the longest question)), its CPU against the
training, ``-q q1`` against its launch cost.

    python benchmarks/grading_overhead.py                          # the course
    python benchmarks/grading_overhead.py --busy                   # beside one busy process
    python benchmarks/grading_overhead.py --course mlp-from-scratch
    python benchmarks/grading_overhead.py --questions q1,q2 --no-full
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))   # _busy.py, beside this file
from _busy import beside_busy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import assignments  # noqa: E402
from grader.judge import grading  # noqa: E402

PHASES = ("launch", "imports", "setup", "training", "checks", "exit", "judge")
TRAINING_STEPS = ("train", "training", "accuracy", "converge")
WARM_MODES = ("none", "user")    # where autograder.py forks sandboxes from a warm start


def breakdown(course: str, questions: list[str], isolation: str, student: Path,
              warm: bool) -> list[dict]:
    """Each question graded in this process; its phases in seconds. With ``warm``,
    forked from the warm start where the isolation allows it (as autograder.py does)."""
    from grader.judge import confinement as confinement_module
    from grader.judge.data import JudgeData
    from grader.judge.report import Reporter

    assignment = assignments.get(course)
    outcomes = []
    original = grading.run_sandbox

    def recording(job, probes, **options):
        launched = time.time()
        outcome = original(job, probes, **options)
        outcomes.append((launched, outcome))
        return outcome

    grading.run_sandbox = recording
    settings = grading.Settings(project_root=ROOT, student_dir=student, mute=True,
                                assignment=assignment, attempts=1, warm_start=warm)
    confinement, _ = confinement_module.choose(isolation, None, ROOT, JudgeData(ROOT / "data"))
    rows = []
    try:
        grader = grading.Grader(settings, JudgeData(ROOT / "data"),
                                Reporter(stream=io.StringIO()), confinement)
        graded = [question for question in assignment.questions if question.id in questions]
        with grader.warm_started(graded):
            if grader.confinement.warm is not None:
                grader.confinement.warm.ready()    # its imports: once, before the first
            for question in graded:
                outcomes.clear()
                result = grader.grade_question(question)
                launched, outcome = outcomes[-1]
                rows.append(_phases(question.id, result, launched, outcome))
    finally:
        grading.run_sandbox = original
        confinement.close()
    return rows


def _phases(question: str, result, launched: float, outcome) -> dict:
    phases = dict(outcome.phases)
    steps = {key: step.seconds for key, step in outcome.steps.items()}
    training = sum(seconds for key, seconds in steps.items() if key in TRAINING_STEPS)
    checks = sum(seconds for key, seconds in steps.items() if key not in TRAINING_STEPS)
    entered = phases.get("entered", launched)
    row = {"question": question, "points": result.points, "max": result.max_points,
           "total": result.seconds, "cpu": result.cpu_seconds or 0.0,
           "launch": max(entered - launched, 0.0), "imports": phases.get("imports", 0.0),
           "setup": phases.get("setup", 0.0), "training": training, "checks": checks}
    in_sandbox = sum(row[name] for name in ("launch", "imports", "setup", "training", "checks"))
    row["exit"] = max(outcome.seconds - in_sandbox, 0.0)
    row["judge"] = max(result.seconds - outcome.seconds, 0.0)
    return row


def direct_training(questions: list[str]) -> dict[str, float]:
    """The course's staff training in a plain script, one thread: seconds per question."""
    known = [q for q in questions if q in ("q1", "q2", "q3", "q4", "q5", "q6")]
    if not known:
        return {}
    process = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "reference_margins.py"), "--seeds", "0",
         "--threads", "1", "--questions", *known], cwd=ROOT, capture_output=True, text=True,
        check=True)
    return {match.group(1): float(match.group(2)) for match in
            re.finditer(r"seed 0 (q\d): .* \(([\d.]+) s\)", process.stdout)}


def full_run(course: str, student: Path, isolation: str, extra: list[str]) -> dict:
    """``autograder.py`` on the solution: wall clock and CPU of everything it ran."""
    with tempfile.TemporaryDirectory(prefix="overhead-") as scratch:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        process = subprocess.run(
            [sys.executable, str(ROOT / "autograder.py"), "--student-dir", str(student),
             "--course", course, "--no-graphics", "--mute", "--isolation", isolation,
             "--attempts", "1", *extra], cwd=scratch, capture_output=True, text=True,
            env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = re.search(r"^Total: (\S+)", process.stdout, re.MULTILINE)
    return {"wall": wall, "cpu": (after.ru_utime - before.ru_utime)
            + (after.ru_stime - before.ru_stime), "total": total.group(1) if total else "?"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--course", default="current", help="the assignment (default current)")
    parser.add_argument("--student-dir", type=Path, help="default: the staff solution")
    parser.add_argument("--questions", default="", help="comma-separated (default: all)")
    parser.add_argument("--isolation", default="auto", help="autograder.py's --isolation")
    parser.add_argument("--busy", action="store_true", help="beside one busy process")
    parser.add_argument("--no-full", action="store_true", help="leave out the full runs")
    args = parser.parse_args(argv)
    assignment = assignments.get(args.course)
    student = (args.student_dir or ROOT / assignment.reference).resolve()
    questions = [q for q in args.questions.split(",") if q] or \
        [q.id for q in assignment.questions if not q.optional]

    print(f"{args.course}, {os.cpu_count()} cores, --isolation {args.isolation}, load "
          f"{os.getloadavg()[0]:.2f}" + (", beside one busy process" if args.busy else ""), flush=True)
    with beside_busy(args.busy):
        rows = breakdown(args.course, questions, args.isolation, student,
                         warm=args.isolation in WARM_MODES)
        direct = direct_training(questions) if args.course in ("current",) else {}
        print(f"\n{'question':<9}" + "".join(f"{name:>9}" for name in PHASES)
              + f"{'total':>9}{'cpu':>8}{'direct':>8}")
        for row in rows:
            shown = direct.get(row["question"])
            print(f"{row['question']:<9}" + "".join(f"{row[name]:>9.2f}" for name in PHASES)
                  + f"{row['total']:>9.2f}{row['cpu']:>8.2f}"
                  + (f"{shown:>8.2f}" if shown is not None else f"{'-':>8}"))
        sums = {name: sum(row[name] for row in rows) for name in (*PHASES, "total", "cpu")}
        print(f"{'all':<9}" + "".join(f"{sums[name]:>9.2f}" for name in PHASES)
              + f"{sums['total']:>9.2f}{sums['cpu']:>8.2f}"
              + (f"{sum(direct.values()):>8.2f}" if direct else f"{'-':>8}"))
        training = sum(direct.values()) if direct else sums["training"]
        overhead = sums["total"] - sums["training"]
        print(f"\noverhead (everything but training): {overhead:.1f} s of {sums['total']:.1f} s "
              f"({overhead / max(len(rows), 1):.2f} s per question)")
        if args.no_full:
            return 0
        cores = os.cpu_count() or 1
        longest = max(row["training"] for row in rows) if rows else 0.0
        limit = max(training / min(cores, 2), longest)
        # Side by side: the warm start (where the isolation allows it) and fresh sandboxes.
        variants = [("", [])] if args.isolation not in WARM_MODES else [
            ("warm start", []), ("fresh (--no-warm-start)", ["--no-warm-start"])]
        runs = {}
        for label, extra in variants:
            runs[label] = (full_run(args.course, student, args.isolation, ["-j", "1", *extra]),
                           full_run(args.course, student, args.isolation, extra))
        first = assignment.questions[0].id
        alone = full_run(args.course, student, args.isolation, ["-q", first])
        print(f"\ntraining (direct where known, else in the sandbox): {training:.1f} s; "
              f"2-core limit max(training / 2, longest training {longest:.1f} s) = {limit:.1f} s")
        for label, (one, default) in runs.items():
            name = f" ({label})" if label else ""
            print(f"\nfull run -j 1{name}:  {one['wall']:6.1f} s, CPU {one['cpu']:6.1f} s "
                  f"({one['total']})")
            print(f"full run default -j{name}: {default['wall']:6.1f} s, CPU "
                  f"{default['cpu']:6.1f} s ({default['total']})")
            print(f"default run / 2-core limit{name}: {default['wall'] / limit:.2f}x "
                  "(target 1.3x)")
            print(f"default run CPU / training{name}: {default['cpu'] / training:.2f}x "
                  "(target 1.25x)")
        print(f"\n-q {first} alone:          {alone['wall']:6.1f} s, CPU {alone['cpu']:6.1f} s")
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
