"""Does a busy machine cost a student time? Grades one question of a submission
(default: the course's q3 with the staff reference) alone and beside busy processes
(processes spinning on the same cores, each in a session of its own, as another
grading's sandbox is), on the same pinned cores, and prints what each run took on
the clock, the CPU time of its sandbox, and the seconds counted against the limit
(grader/judge/time_limits.py: CPU time per core the sandbox may use, never more
than the clock).

    python benchmarks/cpu_time_limits.py                        # q3, one core, 2 busy
    python benchmarks/cpu_time_limits.py --cores 2 --threads 2  # OpenMP spinning?
    python benchmarks/cpu_time_limits.py --question q2 --busy 1 2
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import assignments  # noqa: E402


def grade_once(question_id: str, student: Path, course: str | None, threads: int | None,
               seed: int) -> dict:
    """Grade one question in this process (its sandbox is a child, as always)."""
    from grader.judge.data import JudgeData
    from grader.judge.grading import Grader, Settings
    from grader.judge.report import Reporter
    assignment = assignments.get(course)
    question = next(q for q in assignment.questions if q.id == question_id)
    settings = Settings(project_root=ROOT, student_dir=student, mute=True, seed=seed,
                        threads=threads, assignment=assignment)
    grader = Grader(settings, JudgeData(ROOT / "data"), Reporter(stream=io.StringIO()))
    result = grader.grade_question(question)
    return {"points": result.points, "max": result.max_points, "wall": result.seconds,
            "cpu": result.cpu_seconds, "limit": question.time_limit,
            "messages": [c.message for c in result.checks if c.status != "passed"]}


def run(args, busy: int) -> dict:
    """One grading on the pinned cores, beside ``busy`` spinning processes."""
    cores = sorted(os.sched_getaffinity(0))[-args.cores:]
    pin = lambda: os.sched_setaffinity(0, cores)   # noqa: E731 - runs in the child
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                                 preexec_fn=pin, start_new_session=True)
                for _ in range(busy)]
    try:
        command = [sys.executable, __file__, "--one", "--question", args.question,
                   "--student-dir", str(args.student_dir), "--seed", str(args.seed)]
        if args.course:
            command += ["--course", args.course]
        if args.threads:
            command += ["--threads", str(args.threads)]
        process = subprocess.run(command, preexec_fn=pin, capture_output=True, text=True,
                                 check=True)
        return json.loads(process.stdout.splitlines()[-1])
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--question", default="q3", help="the question to grade (default: q3)")
    parser.add_argument("--course", default=None, help="the assignment (default: the course)")
    parser.add_argument("--student-dir", type=Path, default=ROOT / "tests" / "reference",
                        help="the submission (default: the staff reference)")
    parser.add_argument("--cores", type=int, default=1,
                        help="cores the grading and the busy processes share (default: 1)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads of the sandbox (default: the table's)")
    parser.add_argument("--busy", type=int, nargs="+", default=[2],
                        help="numbers of busy processes to compare with none (default: 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(grade_once(args.question, args.student_dir, args.course,
                                    args.threads, args.seed)))
        return 0
    if not hasattr(os, "sched_setaffinity"):
        print("this benchmark pins processes to cores (Linux only)", file=sys.stderr)
        return 2
    cores = min(args.cores, len(os.sched_getaffinity(0)))
    args.cores = cores
    threads = max(1, min(args.threads or 1, cores))
    print(f"{args.question} of {args.student_dir}, on {cores} pinned core(s), "
          f"{args.threads or 'table'} torch thread(s), seed {args.seed}")
    print(f"{'beside':<8}{'points':>8}{'wall s':>9}{'CPU s':>8}{'counted s':>11}"
          f"{'limit s':>9}{'share':>7}")
    for busy in [0, *args.busy]:
        figures = run(args, busy)
        cpu, wall = figures["cpu"], figures["wall"]
        counted = min(wall, cpu / threads) if cpu is not None else wall
        share = cpu / (threads * wall) if cpu is not None and wall else float("nan")
        print(f"{busy:<8}{figures['points']:>5g}/{figures['max']:<2g}{wall:>9.1f}"
              f"{cpu if cpu is not None else float('nan'):>8.1f}{counted:>11.1f}"
              f"{figures['limit']:>9g}{share:>7.0%}", flush=True)
        for message in figures["messages"]:
            print("   ", message.splitlines()[0][:200])
    return 0


if __name__ == "__main__":
    sys.exit(main())
