"""The similarity report of a class: each submission's student-written code per file
the assignment grades, and that of the ``--archive`` folders (earlier terms, public
solutions, laid out as submissions), compared (engine.py) and written as

    OUT/similarity.csv   one row per pair and file that share code, highest first:
                         a, b, file, share_a, share_b, longest_lines, flagged
    OUT/similarity.html  the report (pages.py), linked from index.html

Nothing here reads or changes a grade. ``python -m grader similarity``
(grader/instructor/commands/similarity.py) finds the submissions and calls
``comparison_of`` and ``write_report``; ``bulk --similarity`` calls ``after_bulk``
with the submissions it graded.
"""

from __future__ import annotations

import csv
import io
import sys
import tempfile
import traceback
from pathlib import Path

from grader import assignments
from grader.instructor.common.spreadsheet import text_cell
from grader.instructor.common.submission import OK, Submission, SubmissionsError
from grader.instructor.intake.files import find_student_files, student_file_names
from grader.instructor.intake.find import find
from grader.instructor.similarity.engine import compare, read_skeletons, student_code
from grader.instructor.similarity.pages import PAGE, PAIR_FOLDER, share_text, write_pages
from grader.instructor.similarity.results import Comparison
from grader.judge.report import atomic_write

CSV_NAME = "similarity.csv"
CSV_COLUMNS = ("a", "b", "file", "share_a", "share_b", "longest_lines", "flagged")
SHOWN_NOTES = 20      # notes printed; the report lists every one


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
        try:
            codes += student_code(submission.files, assignment, submission.id)
        except Exception as error:  # noqa: BLE001 - its bytes cost only its own row
            notes.append(f"{submission.id}: not compared (its code could not be read: "
                         f"{type(error).__name__})")
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
    """OUT/similarity.csv, then the pages (pages.py)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for pair in comparison.pairs:
        writer.writerow([text_cell(pair.a), text_cell(pair.b), text_cell(pair.file),
                         f"{pair.share_a:.3f}", f"{pair.share_b:.3f}", pair.longest,
                         "yes" if pair.flagged else "no"])
    atomic_write(out / CSV_NAME, buffer.getvalue())
    write_pages(out, comparison)
    return [out / CSV_NAME, out / PAGE]


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


def after_bulk(out: Path, submissions: list[Submission], course: str, archives: list[Path],
               threshold: float) -> int:
    """``bulk --similarity``: compare the class just graded (its submissions, still
    unpacked) and the ``--archive`` folders, then write similarity.csv and the pages
    into ``out``. The grades are written before: a failure here leaves them as they
    are. Returns the exit status."""
    try:
        with tempfile.TemporaryDirectory(prefix="grader-similarity-") as work:
            comparison = comparison_of(submissions, assignments.get(course),
                                       archives, threshold, Path(work))
        write_report(out, comparison)       # similarity.csv, then write_pages
        pages = [out / PAGE, *sorted((out / PAIR_FOLDER).glob("*.html"))]
    except SubmissionsError as error:       # an --archive folder that cannot be read
        print(f"grader bulk: --archive: {error}; the grades are written, without a "
              "similarity report", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - ours: the grades stand, say what failed
        traceback.print_exc()
        print("grader bulk: the grades and pages are written, but the similarity report "
              "failed (a bug of ours, not of your input); please report the traceback "
              "above", file=sys.stderr)
        return 3
    flagged = sum(pair.flagged for pair in comparison.pairs)
    print(f"similarity: {flagged} pair-files flagged at {share_text(threshold)} "
          f"({len(pages) - 1} side-by-side pages); wrote {out / 'similarity.csv'} and "
          f"{out / PAGE} (evidence for a person to read: no grade changes)")
    return 0
