"""``python -m grader similarity SUBMISSIONS --out OUT``: who shares code with whom.
Finds the class as ``bulk`` does (grader/instructor/intake/), recognises its course
version, and writes the report (grader/instructor/similarity/report.py)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from grader import assignments
from grader.instructor.common.submission import OK, SubmissionsError
from grader.instructor.intake.courses import majority, recognise_each
from grader.instructor.intake.find import AUTO, LAYOUT_CHOICES, find
from grader.instructor.similarity.engine import DEFAULT_THRESHOLD
from grader.instructor.similarity.report import comparison_of, summary, write_report


def add_similarity(commands) -> None:
    parser = commands.add_parser(
        "similarity", help="rank the pairs of submissions by the code they share",
        description="Compare every pair of submissions in SUBMISSIONS (laid out as bulk "
                    "takes them; no grading needed) on the code each student wrote, file "
                    "by file, ignoring the released skeleton, and each submission with "
                    "the --archive folders. Renamed variables, reordered functions and "
                    "reformatting do not hide a copy. Writes OUT/similarity.csv and the "
                    "report pages. Never changes a grade: it is evidence for a person.")
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT",
                        help="where similarity.csv and similarity.html go (may be a bulk "
                             "output folder: its grades are left as they are)")
    parser.add_argument("--archive", type=Path, action="append", default=[], metavar="DIR",
                        help="a folder of earlier terms' or public solutions, laid out as "
                             "submissions; each student is compared with them, they are "
                             "not compared with each other (repeat for more)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, metavar="X",
                        help="flag a pair when one side shares at least this share of its "
                             f"code with the other (default {DEFAULT_THRESHOLD})")
    parser.add_argument("--layout", choices=LAYOUT_CHOICES, default=AUTO,
                        help="what SUBMISSIONS is, as for bulk (default: detected)")
    assignments.add_course_option(
        parser, "the course version or assignment whose files are compared (default: "
                "the one most submissions are recognised as; names below)")
    parser.set_defaults(run=run_similarity, command="similarity")


def run_similarity(args) -> int:
    if not 0 < args.threshold <= 1:
        return _usage(f"--threshold must be above 0 and at most 1 (a share of the code); "
                      f"got {args.threshold}")
    for folder in args.archive:
        if not folder.exists():
            return _usage(f"--archive {folder} does not exist: give a folder of earlier "
                          "or public solutions, laid out as submissions")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return _usage(f"cannot write to {args.out} ({error.strerror or error}); give an "
                      "--out folder you may write to")
    with tempfile.TemporaryDirectory(prefix="grader-similarity-") as scratch:
        work = Path(scratch)
        try:
            found = find(args.submissions, work / "unpacked", args.layout)
        except SubmissionsError as error:
            return _usage(str(error))
        submissions = found.submissions
        if not any(s.status == OK for s in submissions):
            return _usage(f"no submission in {args.submissions} holds code to compare "
                          f"({len(submissions)} found, none readable): give the folder of "
                          "per-student folders or zips, or an export bulk reads")
        recognised = recognise_each(submissions, work / "recognise")
        course = args.course or majority(recognised)
        agree = sum(1 for name in recognised.values() if name == course)
        print(f"Comparing the files of {course} (" + ("as --course says" if args.course else
              f"the version {agree} of {len(recognised)} readable submissions match; give "
              "--course to choose another") + ")", file=sys.stderr)
        try:
            comparison = comparison_of(submissions, assignments.get(course), args.archive,
                                       args.threshold, work)
        except SubmissionsError as error:
            return _usage(str(error))
    for note in found.notes:
        print(f"grader similarity: note: {note}", file=sys.stderr)
    written = write_report(args.out, comparison)
    print(summary(comparison))
    print("wrote " + " and ".join(str(path) for path in written))
    return 0


def _usage(message: str) -> int:
    print(f"grader similarity: {message}", file=sys.stderr)
    return 2
