"""Command line of autograder.py."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from grader import assignments
from grader.core import lifetime
from grader.core.results import format_points
from grader.core.table import LIMITS
from grader.judge import platform_support

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ISOLATION_MODES = ("auto", "bwrap", "user", "none")   # confinement.MODES, without its imports
GRADESCOPE_RESULTS = Path("/autograder/results/results.json")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="autograder.py", description="Grade the machine-learning project (questions "
        "q1-q7),\nor another assignment of the kit (listed at the end).")
    parser.add_argument("-q", "--question", metavar="QUESTION", action="append",
                        help="grade one question, e.g. -q q3 (its prerequisites are not "
                             "required); repeat it or list several (-q q1,q2) for more")
    parser.add_argument("--no-graphics", action="store_true",
                        help="do not draw live plots while models train")
    parser.add_argument("--mute", action="store_true",
                        help="hide what your code prints while it is graded")
    parser.add_argument("--check-dependencies", action="store_true",
                        help="check that numpy, matplotlib and torch work, then exit")
    parser.add_argument("--student-dir", type=Path, default=PROJECT_ROOT, metavar="DIR",
                        help="grade the student files in DIR (default: this project's folder); "
                             "files missing there count as not submitted")
    # bulk's: its submissions are graded in copies under OUTDIR/.work/, so messages name
    # their files alone ('' names the files alone; otherwise TEXT stands for DIR).
    parser.add_argument("--student-dir-label", metavar="TEXT", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=LIMITS.default_seed,
                        help=f"random seed; the same seed gives the same grade (default: "
                             f"{LIMITS.default_seed})")
    parser.add_argument("--attempts", type=int, default=LIMITS.default_attempts, metavar="N",
                        help="when a training check fails near its threshold (a figure "
                             "another seed could pass), train the question again on the next "
                             "seeds (--seed + 1...), up to N attempts in all, and grade its "
                             f"best (default: {LIMITS.default_attempts}; 1 grades on --seed "
                             "alone)")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="also write the results as JSON to FILE")
    parser.add_argument("--gradescope-output", action="store_true",
                        help="write Gradescope's results.json (see --results-file)")
    parser.add_argument("--results-file", type=Path, metavar="FILE",
                        help="where --gradescope-output writes (default: "
                             f"{GRADESCOPE_RESULTS} if that folder exists, else results.json)")
    parser.add_argument("--edx-output", action="store_true",
                        help="write an edX summary to edx_response.html")
    parser.add_argument("--time-limit-scale", type=float, default=1.0, metavar="X",
                        help="multiply every time limit by X (e.g. 2 on a slow machine)")
    parser.add_argument("--memory-limit", type=int, default=LIMITS.memory_mb, metavar="MB",
                        help=f"memory allowed to student code, in MB (default: {LIMITS.memory_mb})")
    parser.add_argument("--enforce-imports", action="store_true",
                        help="fail questions whose files import anything the skeleton does not "
                             "(default: only warn)")
    parser.add_argument("--verbose", action="store_true",
                        help="for notebooks and scripts handed in, list every top-level "
                             "statement the autograder left out (not run), with its cell "
                             "and line (default: how many of each kind)")
    parser.add_argument("--save-plots", type=Path, metavar="DIR",
                        help="save pictures of each trained model in DIR (DIR/qN.png and "
                             "more), drawn after each question is "
                             "scored; works without a display")
    parser.add_argument("-j", "--jobs", type=int, metavar="N",
                        help="grade up to N questions at a time (default: as many as the "
                             "cores allow; -j 1 grades one after another); output stays in "
                             "order")
    assignments.add_course_option(
        parser, "the course version (or other assignment) the files were written for "
                "(default: recognised from the files; the names are listed below)")
    parser.add_argument("--sandbox-user", metavar="NAME",
                        help="run student code as the unprivileged user NAME, which cannot read "
                             "the test labels or change the grader (takes effect only when the "
                             "autograder runs as root, e.g. on Gradescope)")
    parser.add_argument("--isolation", choices=ISOLATION_MODES, default="auto",
                        help="where student code runs: bwrap (a bubblewrap sandbox that sees "
                             "only the submission and a copy of the grader without the test "
                             "labels, with no network), user (as --sandbox-user), none, or "
                             "auto (the default: bwrap where it works, else user, else none, "
                             "said at the start)")
    parser.add_argument("--no-warm-start", action="store_true",
                        help="start every question's sandbox as a fresh Python that imports "
                             "torch itself, instead of forking it from one that has (the "
                             "default with --isolation none or user on Linux: the same "
                             "grades, less time; docs/isolation.md)")
    args = parser.parse_args(argv)

    if args.question is not None:
        wanted, known = [], assignments.question_ids()
        for item in ",".join(args.question).split(","):
            name = item.strip().lower()
            name = name if name.startswith("q") else f"q{name}"
            if name not in known:
                parser.error(f"there is no question {item.strip()!r}; choose from "
                             f"{', '.join(known)}")
            if name not in wanted:
                wanted.append(name)
        args.question = wanted
    if not args.student_dir.is_dir():
        parser.error(f"--student-dir {args.student_dir} is not a folder")
    if args.time_limit_scale <= 0:
        parser.error("--time-limit-scale must be positive")
    if args.memory_limit < 256:
        parser.error("--memory-limit must be at least 256 (MB)")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return args


def main(argv=None) -> int:
    try:
        assignments.registry()
    except Exception:  # noqa: BLE001 - our own tables are broken: say so, grade nothing
        traceback.print_exc()
        print("autograder.py: the autograder is broken (an assignment's table could not be "
              "loaded; see above), so nothing was graded; please report this", file=sys.stderr)
        return 3
    args = parse_args(argv)
    if args.check_dependencies:
        from grader.judge.dependencies import check_dependencies
        return check_dependencies(graphics=not args.no_graphics)

    from grader.core.wiring import table_mismatches
    from grader.judge.data import DataProblem, JudgeData
    from grader.judge.grading import Settings
    from grader.judge.confinement import ConfinementError, choose
    from grader.judge.isolation import IsolationError
    from grader.judge.report import Reporter

    student_dir = args.student_dir.resolve()
    notes = [f"on this system {text}" for text in platform_support.limitations()]
    if args.course is None:
        assignment, why = assignments.recognise(student_dir)
        if why:
            notes.append(assignments.announcement(assignment, why))
    else:
        assignment = assignments.get(args.course)

    problems = table_mismatches(assignment.questions)
    if problems:   # our own wiring is broken: grading now could misattribute points
        print("autograder.py: the autograder is broken (its table and its question modules "
              "disagree), so nothing was graded; please report this:\n  "
              + "\n  ".join(problems), file=sys.stderr)
        return 3

    reporter = Reporter()
    try:
        data = JudgeData(PROJECT_ROOT / "data", assignment.data, students_copy=True)
    except DataProblem as problem:
        print(f"autograder.py: cannot grade: {problem}", file=sys.stderr)
        return 2
    if data.stand_ins and (args.gradescope_output or args.edx_output):
        # a grade to be recorded is never computed on stand-in labels
        print(f"autograder.py: cannot grade for Gradescope or edX: {data.stand_in_note()}. "
              "Grade with the full data files (your course's autograder has them), or "
              "leave out --gradescope-output and --edx-output to see the estimate.",
              file=sys.stderr)
        return 2
    if data.stand_ins:
        notes.append(data.stand_in_note())
    if args.attempts < 1:
        print(f"autograder.py: --attempts must be at least 1; got {args.attempts}",
              file=sys.stderr)
        return 2
    settings = Settings(project_root=PROJECT_ROOT, student_dir=student_dir, seed=args.seed,
                        graphics=not args.no_graphics, mute=args.mute,
                        plots_dir=args.save_plots.resolve() if args.save_plots else None,
                        time_limit_scale=args.time_limit_scale, memory_mb=args.memory_limit,
                        enforce_imports=args.enforce_imports, assignment=assignment,
                        student_dir_label=args.student_dir_label, attempts=args.attempts,
                        warm_start=not args.no_warm_start)
    if settings.plots_dir:
        settings.plots_dir.mkdir(parents=True, exist_ok=True)

    available = assignment.questions
    missing = [q for q in args.question or [] if q not in {c.id for c in available}]
    if missing:
        print(f"autograder.py: {assignment.called} {assignment.name} has no question "
              f"{', '.join(missing)}; its questions are {', '.join(q.id for q in available)}",
              file=sys.stderr)
        return 2
    try:
        confinement, confinement_notes = choose(args.isolation, args.sandbox_user,
                                                PROJECT_ROOT, data)
    except (ConfinementError, IsolationError) as problem:
        print(f"autograder.py: cannot grade: {problem}", file=sys.stderr)
        return 2
    except OSError as error:     # ours: the sandboxes' copy of the grader could not be made
        print(f"autograder.py: cannot grade: the copy of the grader that student code "
              f"imports could not be written ({error}); please report this", file=sys.stderr)
        return 3
    notes += confinement_notes
    try:
        with lifetime.terminate_as_interrupt():
            return _grade(args, settings, data, reporter, notes, confinement)
    except lifetime.Terminated:      # outside the grading itself (writing results)
        print("\nStopped (SIGTERM).", file=sys.stderr)
        return 143
    finally:
        confinement.close()


def _jobs(args, settings, questions, notes: list[str]) -> int:
    """Questions graded at a time: -j, or as many as the cores allow; never more
    sandboxes than the memory available holds at --memory-limit each (said once)."""
    from grader.judge.grading import sandbox_threads
    from grader.judge.parallel import default_jobs, memory_slots
    wanted = args.jobs or default_jobs(questions, lambda q: sandbox_threads(q, settings))
    wanted = min(wanted, len(questions))
    slots = memory_slots(settings.memory_mb) if wanted > 1 else None
    if slots is not None and slots < wanted:
        notes.append(f"grading {slots} question(s) at a time, not {wanted}: each may use "
                     f"{settings.memory_mb} MB (--memory-limit) and the memory available "
                     f"holds {slots}")
        return slots
    return wanted


def _grade(args, settings, data, reporter, notes, confinement) -> int:
    from grader.judge.grading import Grader, read_handed_in
    from grader.judge.report import write_edx, write_gradescope, write_json

    student_dir, assignment = settings.student_dir, settings.assignment
    shown = settings.shown_dir or "the submission"
    names = assignment.student_files
    # Notebooks and scripts standing in for missing or still-skeleton files.
    handed_in = read_handed_in(settings)
    notes += handed_in.notes(verbose=args.verbose)
    if not any((student_dir / name).is_file() for name in names) and not handed_in.modules:
        if handed_in.unreadable and not (args.json or args.gradescope_output
                                         or args.edx_output):
            # A person at the terminal, whose only work cannot be read: nothing to grade.
            print(f"autograder.py: cannot grade: none of {', '.join(names)} is in {shown}, "
                  "and " + "; ".join(f"{problem.path} {problem.reason}"
                                     for problem in handed_in.unreadable)
                  + ". Fix it (or hand in the files themselves) and run again.",
                  file=sys.stderr)
            return 2
        notes.append(f"none of {', '.join(names)} is in {shown}")
        zips = sorted(path.name for path in student_dir.glob("*.zip") if path.is_file())
        if zips:
            notes.append(f"{shown} holds {', '.join(zips)}: autograder.py grades the files in "
                         "the folder, never inside a zip; unzip it there and grade again (or "
                         "grade the zip with `python -m grader bulk`, which reads zips)")
    by_id = {question.id: question for question in assignment.questions}
    questions = [by_id[q] for q in args.question] if args.question else [
        question for question in by_id.values()
        if not question.optional or settings.plots_dir is not None]

    jobs = _jobs(args, settings, questions, notes)
    started = time.monotonic()
    grader = Grader(settings, data, reporter, confinement, handed_in)
    notes += list(grader.left_out.values())       # a link, too large, binary: not graded
    if args.attempts > 1:     # the policy, last: what was graded and how is said first
        notes.append(f"a question whose training check fails near its threshold is trained "
                     f"again on seeds {args.seed + 1}-{args.seed + args.attempts - 1} (up to "
                     f"{args.attempts} attempts in all, --attempts) and earns its best "
                     "attempt; a time-out or a crash is not retried")
    reporter.begin(args.seed, shown, notes, grader.import_warnings, handed_in.warnings())
    try:
        results = grader.grade(questions, honour_prerequisites=args.question is None,
                               jobs=jobs)
    except KeyboardInterrupt as stopped:
        terminated = isinstance(stopped, lifetime.Terminated)
        done = ", ".join(f"{r.question.id} {format_points(r.points)}/"
                         f"{format_points(r.max_points)}" for r in grader.finished)
        print(f"\n{'Stopped (SIGTERM)' if terminated else 'Interrupted'}: grading stopped; "
              + (f"finished before it: {done}; " if done else "")
              + "no results were written.", file=sys.stderr)
        return 143 if terminated else 130
    seconds = time.monotonic() - started
    reporter.summary(results, seconds)
    if settings.plots_dir:   # printed only: a Gradescope run's folder means nothing to students
        names = [Path(path).name for result in results for path in result.figures]
        print(f"Figures saved in {settings.plots_dir}: {', '.join(names)}" if names
              else f"No figures were saved in {settings.plots_dir} (no question got far enough)")

    if args.json:
        write_json(args.json, results, args.seed, settings.shown_dir, seconds, assignment.name,
                   handed_in.as_dict() if handed_in.notes() else None)
    if args.gradescope_output:
        target = args.results_file or (GRADESCOPE_RESULTS if GRADESCOPE_RESULTS.parent.is_dir()
                                       else Path("results.json"))
        write_gradescope(target, results, reporter.text, seconds)
    if args.edx_output:
        write_edx(Path("edx_response.html"), results)
    if grader.internal_errors:
        print(f"autograder.py: {grader.internal_errors} question(s) hit an internal error in the "
              "autograder (marked FAIL with an explanation above); please report it.",
              file=sys.stderr)
        return 3
    return 0
