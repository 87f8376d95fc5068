"""``python -m grader similarity SUBMISSIONS --out OUT``: who shares code with whom.

Reads SUBMISSIONS as ``bulk`` does (grader/instructor/submissions.py), each
submission's student-written code per file the assignment grades, and the
``--archive`` folders (earlier terms, public solutions, laid out the same way);
compares them (grader/instructor/similarity.py) and writes

    OUT/similarity.csv   one row per pair and file that share code, highest first:
                         a, b, file, share_a, share_b, longest_lines, flagged
    OUT/similarity.html  the report (grader/instructor/similarity_pages.py, when
                         present), linked from index.html

Nothing here reads or changes a grade. ``comparison_of`` and ``write_report`` are
what ``bulk --similarity`` calls with the submissions it already found.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import io
import sys
import tempfile
from pathlib import Path

from grader import assignments
from grader.instructor import bulk
from grader.instructor.similarity import DEFAULT_THRESHOLD, compare, read_skeletons, \
    student_code
from grader.instructor.similarity_results import Comparison
from grader.instructor.submissions import (AUTO, LAYOUT_CHOICES, OK, Submission,
                                           SubmissionsError, find, find_student_files,
                                           student_file_names)
from grader.judge.report import atomic_write

CSV_NAME = "similarity.csv"
CSV_COLUMNS = ("a", "b", "file", "share_a", "share_b", "longest_lines", "flagged")
PAGES_MODULE = "grader.instructor.similarity_pages"
SHOWN_NOTES = 20      # notes printed; the report lists every one


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
        recognised = bulk.recognise_each(submissions, work / "recognise")
        course = args.course or bulk.majority(recognised)
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


def comparison_of(submissions: list[Submission], assignment, archives: list[Path],
                  threshold: float, work: Path) -> Comparison:
    """Read every readable submission's code and each archive folder's, and compare.
    Raises SubmissionsError when an archive folder cannot be read as submissions."""
    codes, notes = [], []
    for submission in submissions:
        if submission.status != OK:
            notes.append(f"{submission.id}: not compared "
                         f"({submission.problem or submission.status})")
            continue
        codes += student_code(submission.files, assignment, submission.id)
    archive_codes, names = [], set()
    for index, folder in enumerate(archives):
        name = folder.name or f"archive{index + 1}"
        if name in names:
            name = f"{name}{index + 1}"
        names.add(name)
        for entry in _archive_entries(folder, work / f"archive-{index}"):
            if entry.status == OK:
                archive_codes += student_code(entry.files, assignment,
                                              f"archive:{name}/{entry.id}")
    comparison = compare(codes, archive_codes, read_skeletons(assignment), threshold)
    comparison.notes[:0] = notes
    return comparison


def _archive_entries(folder: Path, work: Path) -> list[Submission]:
    """An archive folder's entries: laid out as submissions, or one solution's files
    at its top (a public solution as downloaded)."""
    files, _ = find_student_files(folder) if folder.is_dir() else ({}, [])
    if any((folder / name).is_file() for name in student_file_names()) and files:
        return [Submission(folder.name or "solution", folder, files)]
    try:
        return find(folder, work).submissions
    except SubmissionsError as error:
        raise SubmissionsError(f"--archive {folder}: {error}") from None


def write_report(out: Path, comparison: Comparison) -> list[Path]:
    """OUT/similarity.csv, and the pages when similarity_pages.py is present."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for pair in comparison.pairs:
        writer.writerow([pair.a, pair.b, pair.file, f"{pair.share_a:.3f}",
                         f"{pair.share_b:.3f}", pair.longest,
                         "yes" if pair.flagged else "no"])
    atomic_write(out / CSV_NAME, buffer.getvalue())
    written = [out / CSV_NAME]
    if importlib.util.find_spec(PAGES_MODULE) is not None:
        pages = importlib.import_module(PAGES_MODULE)
        pages.write_pages(out, comparison)
        written.append(out / "similarity.html")
    return written


def summary(comparison: Comparison, top: int = 5) -> str:
    """A few lines: how many compared, how many pairs flagged, the top pairs, notes."""
    students = len(comparison.best)
    flagged = [pair for pair in comparison.pairs if pair.flagged]
    lines = [f"Compared {students} submissions"
             + (f" and {len(comparison.archive)} archive entries" if comparison.archive else "")
             + f" on {', '.join(comparison.files)}: {len(comparison.pairs)} pair-files share "
             f"code, {len(flagged)} flagged (one side shares {comparison.threshold:.0%} or "
             "more). Nothing here changes a grade."]
    for pair in comparison.pairs[:top]:
        lines.append(f"  {pair.a} ~ {pair.b}  {pair.file}: {pair.share_a:.0%} / "
                     f"{pair.share_b:.0%}, longest run {pair.longest} lines"
                     + ("  FLAGGED" if pair.flagged else ""))
    shown = comparison.notes[:SHOWN_NOTES]
    lines += [f"note: {note}" for note in shown]
    if len(comparison.notes) > len(shown):
        lines.append(f"note: {len(comparison.notes) - len(shown)} more notes in the report")
    return "\n".join(lines)
