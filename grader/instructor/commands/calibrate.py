"""``python -m grader calibrate``: a solution's training figures on N seeds per
question, against each threshold (grader/instructor/grading/calibrate.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from grader import assignments
from grader.instructor.grading import calibrate
from grader.judge import confinement

DEFAULT_SEEDS = 10


def add_calibrate(commands) -> None:
    parser = commands.add_parser(
        "calibrate", help="train a solution on N seeds per question and report how its "
                          "figures spread against each threshold",
        description="Grade a solution (default: the staff solution of the course) on seeds "
                    "0..N-1, each question of each seed its own run, several at once; report "
                    "per thresholded check (a training loss, an accuracy) the figure at each "
                    "seed (min, median, max), how many seeds pass and the worst seed's margin "
                    "to the threshold, and flag checks an honest solution fails on some seeds. "
                    "For instructors who change a threshold or a design. Writes "
                    f"OUT/{calibrate.CSV_NAME} and OUT/{calibrate.PICTURE_NAME}.")
    parser.add_argument("--student-dir", type=Path, metavar="DIR",
                        help="the solution to train (default: the staff solution of --course)")
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, metavar="N",
                        help=f"seeds 0..N-1 per question (default {DEFAULT_SEEDS})")
    parser.add_argument("-q", "--question", metavar="IDS",
                        help="comma-separated questions (default: every graded one; only "
                             "its checks scored against a threshold are reported)")
    parser.add_argument("--out", type=Path, default=Path("calibrate"), metavar="OUT",
                        help="where the CSV and the picture go (default ./calibrate)")
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="runs at once (default: the number of cores)")
    parser.add_argument("--isolation", choices=confinement.MODES, default="auto",
                        help="autograder.py's --isolation for each run (default auto)")
    assignments.add_course_option(
        parser, "the course version or assignment (default: the one --student-dir is "
                "recognised as, or the default one; names below)")
    parser.set_defaults(run=run_calibrate, command="calibrate")


def run_calibrate(args) -> int:
    if args.seeds < 1:
        return _usage(f"--seeds must be at least 1; got {args.seeds}")
    if args.jobs is not None and args.jobs < 1:
        return _usage(f"--jobs must be at least 1; got {args.jobs}")
    student_dir = args.student_dir
    if student_dir is None:
        assignment = assignments.get(args.course)
        student_dir = calibrate.PROJECT_ROOT / assignment.reference
        if not student_dir.is_dir():
            return _usage(f"the staff solution of {assignment.name} ({student_dir}) is not "
                          "here (a student release ships none): give --student-dir")
    elif not student_dir.is_dir():
        return _usage(f"--student-dir {student_dir} is not a folder: give the folder of "
                      "the solution to train")
    else:
        assignment = assignments.get(args.course) if args.course else \
            assignments.recognise(student_dir)[0]
    student_dir = student_dir.resolve()
    known = [question.id for question in assignment.questions]
    questions = [q.strip() for q in args.question.split(",") if q.strip()] \
        if args.question else [question.id for question in assignment.questions
                               if question.points > 0 and not question.optional]
    unknown = [q for q in questions if q not in known]
    if unknown or not questions:
        return _usage(f"{assignment.name} has no question {', '.join(unknown) or '(none given)'}"
                      f"; its questions are {', '.join(known)}")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return _usage(f"cannot write to {args.out} ({error.strerror or error}); give an "
                      "--out folder you may write to")
    jobs = args.jobs or os.cpu_count() or 1
    by_id = {question.id: question for question in assignment.questions}
    timeout = 300 + 3 * max(by_id[q].time_limit for q in questions)
    print(f"Training {student_dir} as {assignment.name}: {', '.join(questions)} on seeds "
          f"0-{args.seeds - 1}, {jobs} run(s) at a time", file=sys.stderr)
    from tqdm import tqdm
    with tqdm(total=len(questions) * args.seeds, unit="run", desc="trained",
              file=sys.stderr, ncols=100) as bar:
        figures, problems = calibrate.calibrate(student_dir, assignment.name, questions,
                                                args.seeds, jobs, args.isolation, timeout,
                                                progress=bar.update)
    for problem in problems:
        print(f"grader calibrate: note: {problem}", file=sys.stderr)
    found = calibrate.spreads(figures, args.seeds)
    if not found:
        print("grader calibrate: no thresholded check reported a figure (see the notes "
              "above)", file=sys.stderr)
        return 1
    print(calibrate.table(found))
    flagged = [spread for spread in found if spread.flagged]
    if flagged:
        print(f"\n{len(flagged)} check(s) pass on some seeds and fail on others: a grade "
              "there hinges on the seed")
    csv_path, picture = args.out / calibrate.CSV_NAME, args.out / calibrate.PICTURE_NAME
    csv_path.write_text(calibrate.csv_text(figures), encoding="utf-8")
    calibrate.draw(found, picture)
    print(f"wrote {csv_path} and {picture}")
    return 0


def _usage(message: str) -> int:
    print(f"grader calibrate: {message}", file=sys.stderr)
    return 2
