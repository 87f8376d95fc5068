"""Grades and feedback back to the LMS: ``python -m grader export``.

    export canvas OUT --gradebook GRADEBOOK.csv   fills one assignment column of
        Canvas's gradebook export (OUT/canvas-import.csv, or --to FILE) for the
        gradebook import
    export moodle OUT --worksheet WORKSHEET.csv   fills Grade and Feedback comments of
        Moodle's grading worksheet (OUT/moodle-worksheet.csv, or --to FILE)
    export moodle-feedback OUT feedback.zip       each feedback page in the folder
        Moodle's "Upload multiple feedback files in a zip" reads
    export canvas-comments OUT                    one text comment per student,
        OUT/feedback/<id>.canvas-comment.txt beside its page (Canvas has no bulk upload
        of feedback files: paste it in SpeedGrader and attach the page)

OUT is a bulk run's folder whose submissions came from a Canvas or Moodle download:
each results/<id>.json then holds ``"lms": {"system", "user_id", "name", "late",
"set_aside"}`` (grader/instructor/handback/records.py reads them). Students are matched on
the LMS's own id, never on names. No grade is written for a submission that was not graded
(``no-files``, ``unreadable``, ``grader-error``) or that matches no row: those are
listed, and their cells keep what the LMS file had, as do the rows of students without
a submission. Extra credit counts in the total: Canvas takes points above the
assignment's points possible; Moodle's upload skips any grade above the maximum, so
there the grade stops at the maximum and the comment names the extra points.
"""

from __future__ import annotations

from pathlib import Path

from grader.instructor.common.zips import FILE_MODE, check_output, write_zip
from grader.instructor.handback import sheets
from grader.instructor.handback.records import (ExportError, lms_records, not_graded_reason,
                                                number, possible_of, summary, total_of,
                                                user_id, warn, who)
from grader.instructor.handback.sheets import parse_number
from grader.instructor.reports.feedback import page_name
from grader.judge.report import atomic_write

EXIT_OK, EXIT_USAGE = 0, 2
MOODLE_FOLDER = "{name}_{id}_assignsubmission_file_"   # as Moodle's own download names it
PAGE_IN_ZIP = "autograder-feedback.html"


# ------------------------------------------------------------------ grades

def scaled(total: float, possible: float, maximum: float | None, scale: bool) -> float:
    return total * maximum / possible if scale and maximum and possible else total


def check_maximum(maximum: float | None, possible: float, scale: bool, where: str) -> None:
    if maximum is None or scale or abs(maximum - possible) < 1e-9:
        return
    raise ExportError(
        f"{where} is {number(maximum)} points but this run's total is {number(possible)} "
        f"(the questions it graded); make the assignment worth {number(possible)} points in "
        f"the LMS, or pass --scale to write each total times {number(maximum)}/"
        f"{number(possible)}")


def target(out: Path, to: Path | None, default: str, force: bool) -> Path:
    """Where a filled sheet goes: ``default`` inside OUT (rewritten freely), or --to,
    which must not replace a file without --force."""
    return out / default if to is None else check_output(to, force, ExportError)


def fill(records: list[dict], rows: dict[str, list[str]], write) -> dict[str, list[str]]:
    """Call ``write(record, row, total)`` for each graded submission with a row; returns
    the submissions left out, by reason."""
    left: dict[str, list[str]] = {"unmatched": [], "not graded": [], "twice": []}
    claimed: dict[str, list[dict]] = {}
    for record in records:
        claimed.setdefault(user_id(record), []).append(record)
    for key, claimants in claimed.items():
        if len(claimants) > 1:
            left["twice"] += [who(r) for r in claimants]
            continue
        record = claimants[0]
        total = total_of(record)
        if key not in rows:
            left["unmatched"].append(who(record))
        elif total is None:
            left["not graded"].append(f"{who(record)}: {not_graded_reason(record)}")
        else:
            write(record, rows[key], total)
    return left


def say_late(written: list[dict]) -> None:
    late = sum(bool(record["lms"].get("late")) for record in written)
    if late:
        print(f"{late} of them were late: no penalty applied here")


def report_left(left: dict[str, list[str]], sheet: Path, lms: str, repeated: list[str]) -> None:
    if repeated:
        warn(f"ids on more than one row of {sheet} (those rows keep their cells): "
             + ", ".join(sorted(set(repeated))))
    lines = {"unmatched": f"no row with their {lms} id in {sheet}; nothing written for them",
             "not graded": "not graded, so no grade written (their cells keep what the file "
                           "had; look at their pages and output/)",
             "twice": f"two submissions with one {lms} id; neither written"}
    for reason, names in left.items():
        if names:
            warn(f"{len(names)} {lines[reason]}:\n  " + "\n  ".join(names))


# ------------------------------------------------------------------ commands

def export_canvas(args) -> int:
    records, questions = lms_records(args.out, "canvas")
    sheet = sheets.canvas_gradebook(args.gradebook)
    column = sheets.choose_column(sheet, args.column)
    name = sheet.header[column].strip()
    possible, maximum = possible_of(questions), sheets.canvas_points_possible(sheet, column)
    check_maximum(maximum, possible, args.scale, f"Points Possible of {name!r}")
    output = target(args.out, args.to, "canvas-import.csv", args.force)
    rows, repeated = sheets.canvas_students(sheet)
    for key in repeated:
        rows.pop(key, None)
    written, extra = [], []

    def write(record, row, total):
        sheet.set(row, column, number(scaled(total, possible, maximum, args.scale)))
        written.append(record)
        if total > possible:
            extra.append(who(record))
    left = fill(records, rows, write)
    sheet.write(output)
    print(f"wrote {output}: {len(written)} grades in column {name!r}; the cells of the "
          f"gradebook's {len(rows) - len(written)} other students are as exported (import "
          "it in Canvas: Grades > Import)")
    if extra or any(q.extra_credit for q in questions):
        print(f"extra credit counts in the total, written as points above the "
              f"{number(maximum or possible)} possible (Canvas accepts them): "
              f"{len(extra)} above it" + (f": {', '.join(extra)}" if extra else ""))
    say_late(written)
    report_left(left, args.gradebook, "Canvas", repeated)
    return EXIT_OK


def export_moodle(args) -> int:
    records, questions = lms_records(args.out, "moodle")
    sheet = sheets.moodle_worksheet(args.worksheet)
    grade, top = sheet.index("Grade"), sheet.index("Maximum Grade")
    comments = sheet.index(sheets.MOODLE_FEEDBACK)
    changeable = sheet.index("Grade can be changed")
    rows, repeated = sheets.moodle_participants(sheet)
    for key in repeated:
        rows.pop(key, None)
    possible = possible_of(questions)
    maxima = {parse_number(row[top]) for row in rows.values() if top < len(row)} - {None}
    for maximum in sorted(maxima):
        check_maximum(maximum, possible, args.scale, "the worksheet's Maximum Grade")
    output = target(args.out, args.to, "moodle-worksheet.csv", args.force)
    written, capped, locked = [], [], []

    def write(record, row, total):
        maximum = parse_number(row[top]) if top < len(row) else None
        points = scaled(total, possible, maximum, args.scale)
        if maximum is not None and points > maximum:
            capped.append(f"{who(record)}: {number(points)}")
            points = maximum
        sheet.set(row, grade, number(points))
        if comments is not None:
            sheet.set(row, comments, summary(record, questions))
        if changeable is not None and changeable < len(row) \
                and row[changeable].strip().lower() == "no":
            locked.append(who(record))
        written.append(record)
    left = fill(records, rows, write)
    sheet.write(output)
    print(f"wrote {output}: {len(written)} grades"
          + (" with a feedback comment each" if comments is not None else "")
          + f"; the rows of the worksheet's {len(rows) - len(written)} other participants are "
          "as downloaded (upload it in Moodle: View all submissions > Upload grading "
          "worksheet)")
    if comments is None:
        warn("the worksheet has no 'Feedback comments' column, so no comments were written; "
             "turn on Feedback comments in the assignment's Feedback types and download the "
             "worksheet again to have them")
    if capped or any(q.extra_credit for q in questions):
        print("extra credit counts in the total up to the Maximum Grade: Moodle's upload "
              f"skips a grade above it, so {len(capped)} of these stop there (the comment "
              "names the extra points; add them in the gradebook by hand if you give them)"
              + "".join(f"\n  {line}" for line in capped))
    say_late(written)
    if locked:
        warn("Moodle says these grades cannot be changed (locked or overridden in the "
             "gradebook), so its upload will skip them: " + ", ".join(locked))
    report_left(left, args.worksheet, "Moodle", repeated)
    return EXIT_OK


def pages(out: Path, records: list[dict]) -> tuple[dict[str, Path], list[str]]:
    """(id -> its feedback page, who has none to hand back). A ``grader-error`` page
    reports our failure, not the student's work: it is held back."""
    found, missing = {}, []
    for record in records:
        page = out / "feedback" / page_name(record)
        if record.get("status") == "grader-error":
            missing.append(f"{who(record)}: grader-error (regrade, then export again)")
        elif not page.is_file():
            missing.append(f"{who(record)}: no page {page}; rebuild the pages with "
                           f"`python -m grader merge {out} --out {out}`")
        else:
            found[record.get("id", "")] = page
    return found, missing


def export_moodle_feedback(args) -> int:
    records, _ = lms_records(args.out, "moodle")
    output = check_output(args.zip, args.force, ExportError)
    found, missing = pages(args.out, records)
    contents, seen = {}, {}
    for record in records:
        if record.get("id", "") not in found:
            continue
        key = user_id(record)
        if not key.isdigit():
            missing.append(f"{who(record)}: the Moodle id is not a number")
            continue
        # Moodle reads the id as the second field between underscores of the folder name.
        name = " ".join((record["lms"].get("name") or "participant").replace("_", " ")
                        .replace("/", " ").replace("\\", " ").split())
        folder = MOODLE_FOLDER.format(name=name, id=key)
        seen.setdefault(folder, []).append(who(record))
        contents[f"{folder}/{PAGE_IN_ZIP}"] = (found[record["id"]].read_bytes(), FILE_MODE)
    for folder, names in seen.items():
        if len(names) > 1:
            contents.pop(f"{folder}/{PAGE_IN_ZIP}")
            missing.append(f"{' and '.join(names)}: one Moodle id, pages left out")
    write_zip(output, contents)
    print(f"wrote {output}: {len(contents)} feedback pages, each as {PAGE_IN_ZIP} in its "
          "participant's folder (upload it in Moodle: View all submissions > Upload multiple "
          "feedback files in a zip)")
    if missing:
        warn(f"{len(missing)} without a page in the zip:\n  " + "\n  ".join(missing))
    return EXIT_OK


def export_canvas_comments(args) -> int:
    records, questions = lms_records(args.out, "canvas")
    found, missing = pages(args.out, records)
    written = 0
    for record in records:
        page = found.get(record.get("id", ""))
        if page is None:
            continue
        if total_of(record) is None:
            text = (f"The autograder could not grade this submission: "
                    f"{not_graded_reason(record)}.")
        else:
            text = summary(record, questions, lines=True)
        text += (f"\nEvery check, with what it measured and what to try next, is in the "
                 f"attached page {page.name}.\n")
        atomic_write(page.with_name(page.stem + ".canvas-comment.txt"), text)
        written += 1
    print(f"wrote {written} comments beside the pages in {args.out / 'feedback'} "
          "(<id>.canvas-comment.txt): in SpeedGrader, paste each into the student's comment "
          "and attach <id>.html")
    if missing:
        warn(f"{len(missing)} without a comment:\n  " + "\n  ".join(missing))
    return EXIT_OK
