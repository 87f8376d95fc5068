"""The spreadsheets an LMS hands out and takes back, read and written cell for cell:
Canvas's gradebook export and Moodle's grading worksheet (``python -m grader export``,
grader/instructor/handback/export.py fills them in).

A sheet is written back with the header rows, the column order, the delimiter, the
line endings, the encoding and the byte-order mark it came with; only the cells the
export fills change.

Canvas (Grades > Export > Export Entire Gradebook): a header row ``Student, ID, SIS
User ID, SIS Login ID, [Integration ID,] Section``, then one column per assignment
named ``Assignment name (assignment id)`` and read-only totals (``Current Points``,
``Final Score``, ...). Before the students come rows with an empty ID: sometimes a
posting-policy row (``Manual Posting``, in older exports ``Muted``), always one whose
Student cell is ``Points Possible``. Each student's row has the Canvas user id in
``ID``; the gradebook import accepts the same file with changed cells.

Moodle (assignment > View all submissions > Download grading worksheet): ``Identifier``
(``Participant 12345``: the participant id of the submission download's folder names),
``Full name``, the identity fields (``Email address``), ``Status``, ``Grade``,
``Maximum Grade``, ``Grade can be changed``, ``Last modified (submission)``, the
online text, ``Last modified (grade)``, ``Feedback comments``. Moodle's upload finds
its columns by these (English) headers, needs ``Identifier``, ``Grade`` and ``Last
modified (grade)``, and skips a grade above the maximum or below zero.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

CANVAS_REQUIRED = ("Student", "ID", "Section")
MOODLE_REQUIRED = ("Identifier", "Grade", "Maximum Grade", "Last modified (grade)")
MOODLE_FEEDBACK = "Feedback comments"
ASSIGNMENT = re.compile(r"^(?P<name>.*\S)\s*\((?P<id>\d+)\)$")   # "Project 3 (12345)"
PARTICIPANT = re.compile(r"(\d+)\s*$")                            # "Participant 12345"


class SheetError(Exception):
    """A gradebook or worksheet that cannot be filled in; the message says why."""


@dataclass
class Sheet:
    """A CSV file as rows of cells, with what it takes to write it back unchanged."""
    path: Path
    rows: list[list[str]]
    encoding: str
    bom: bool
    newline: str
    delimiter: str

    @property
    def header(self) -> list[str]:
        return self.rows[0]

    def index(self, name: str) -> int | None:
        stripped = [cell.strip() for cell in self.header]
        return stripped.index(name) if name in stripped else None

    def set(self, row: list[str], column: int, value: str) -> None:
        row.extend([""] * (column + 1 - len(row)))
        row[column] = value

    def text(self) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=self.delimiter, lineterminator=self.newline).writerows(
            self.rows)
        return ("\ufeff" if self.bom else "") + buffer.getvalue()

    def write(self, target: Path) -> None:
        """Write atomically, as bytes (no newline translation)."""
        partial = target.with_name(target.name + ".partial")
        # Cells the file had round-trip; only text of ours could miss its encoding.
        partial.write_bytes(self.text().encode(self.encoding, errors="replace"))
        os.replace(partial, target)


def read_sheet(path: Path, what: str) -> Sheet:
    """``path`` as a Sheet; ``what`` names it in messages ("the gradebook")."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SheetError(f"{what} {path} does not exist") from None
    except OSError as error:
        raise SheetError(f"{what} {path} cannot be read: {error.strerror or error}") from None
    bom = data.startswith(b"\xef\xbb\xbf")
    for encoding in ("utf-8", "cp1252", "latin-1"):     # latin-1 reads any bytes
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    text = text[1:] if bom else text
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max((",", ";", "\t"), key=first.count)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise SheetError(f"{what} {path} is empty")
    newline = "\r\n" if "\r\n" in text else "\n"
    return Sheet(path, rows, encoding, bom, newline, delimiter)


def _looks_like(sheet: Sheet) -> str:
    """Which LMS wrote the sheet, by its headers: 'canvas', 'moodle', 'bulk' or ''."""
    names = {cell.strip() for cell in sheet.header}
    if {"Identifier", "Full name"} <= names:
        return "moodle"
    if {"Student", "ID"} <= names or "SIS User ID" in names:
        return "canvas"
    if sheet.header[:4] == ["id", "name", "email", "sid"]:
        return "bulk"
    return ""


WRONG = {
    "moodle": "it is Moodle's grading worksheet (it has Identifier and Full name); give it "
              "to `python -m grader export moodle OUT --worksheet FILE`",
    "canvas": "it is Canvas's gradebook export (it has Student and ID); give it to "
              "`python -m grader export canvas OUT --gradebook FILE`",
    "bulk": "it is the grades.csv a bulk run writes, not a file from the LMS",
}


def _require(sheet: Sheet, lms: str, required: tuple[str, ...], download: str) -> None:
    kind = _looks_like(sheet)
    if kind and kind != lms:
        raise SheetError(f"{sheet.path} is not {download}: {WRONG[kind]}")
    missing = [name for name in required if sheet.index(name) is None]
    if missing:
        raise SheetError(
            f"{sheet.path} has no {', '.join(repr(m) for m in missing)} column; expected "
            f"{download}, whose header names {', '.join(required)} (in English, as the "
            "LMS writes them); download it again and give the file unchanged")


# ------------------------------------------------------------------ Canvas

CANVAS_DOWNLOAD = "Canvas's gradebook export (Grades > Export > Export Entire Gradebook)"


def canvas_gradebook(path: Path) -> Sheet:
    sheet = read_sheet(path, "the gradebook")
    _require(sheet, "canvas", CANVAS_REQUIRED, CANVAS_DOWNLOAD)
    return sheet


def assignment_columns(sheet: Sheet) -> list[int]:
    return [i for i, cell in enumerate(sheet.header) if ASSIGNMENT.match(cell.strip())]


def choose_column(sheet: Sheet, wanted: str | None) -> int:
    """The assignment column to fill: ``wanted`` (the whole header, the name without
    its id, or the id), else the only assignment column there is."""
    columns = assignment_columns(sheet)
    listing = "; ".join(repr(sheet.header[i].strip()) for i in columns) or "none"
    if wanted is None:
        if len(columns) == 1:
            return columns[0]
        if not columns:
            raise SheetError(f"{sheet.path} has no assignment column (a header such as "
                             "'Project 3 (12345)'); create the assignment in Canvas, then "
                             "export the gradebook again")
        raise SheetError(f"{sheet.path} has {len(columns)} assignment columns; choose one "
                         f"with --column NAME: {listing}")
    wanted = wanted.strip()
    found = [i for i in columns if wanted in (
        sheet.header[i].strip(), ASSIGNMENT.match(sheet.header[i].strip())["name"],
        ASSIGNMENT.match(sheet.header[i].strip())["id"])]
    if len(found) == 1:
        return found[0]
    if found:
        raise SheetError(f"--column {wanted!r} names {len(found)} columns of {sheet.path}; "
                         "give the whole header, with the id in parentheses: "
                         + "; ".join(repr(sheet.header[i].strip()) for i in found))
    raise SheetError(f"{sheet.path} has no assignment column {wanted!r}; its assignment "
                     f"columns are: {listing}")


def canvas_students(sheet: Sheet) -> tuple[dict[str, list[str]], list[str]]:
    """(Canvas user id -> that student's row, ids found on more than one row). Rows with
    an empty ID (Points Possible, a posting-policy row) are not students."""
    column = sheet.index("ID")
    rows: dict[str, list[str]] = {}
    repeated = []
    for row in sheet.rows[1:]:
        key = row[column].strip() if column < len(row) else ""
        if not key:
            continue
        if key in rows:
            repeated.append(key)
        rows[key] = row
    return rows, repeated


def canvas_points_possible(sheet: Sheet, column: int) -> float | None:
    """The chosen assignment's points in the Points Possible row (None where absent)."""
    student = sheet.index("Student")
    for row in sheet.rows[1:]:
        if student < len(row) and row[student].strip() == "Points Possible":
            return parse_number(row[column] if column < len(row) else "")
    return None


# ------------------------------------------------------------------ Moodle

MOODLE_DOWNLOAD = ("Moodle's grading worksheet (the assignment's View all submissions > "
                   "Download grading worksheet, with the offline grading worksheet "
                   "feedback type on)")


def moodle_worksheet(path: Path) -> Sheet:
    sheet = read_sheet(path, "the worksheet")
    _require(sheet, "moodle", MOODLE_REQUIRED, MOODLE_DOWNLOAD)
    return sheet


def moodle_participants(sheet: Sheet) -> tuple[dict[str, list[str]], list[str]]:
    """(participant id -> that row, ids on more than one row)."""
    column = sheet.index("Identifier")
    rows: dict[str, list[str]] = {}
    repeated = []
    for row in sheet.rows[1:]:
        found = PARTICIPANT.search(row[column]) if column < len(row) else None
        if not found:
            continue
        if found[1] in rows:
            repeated.append(found[1])
        rows[found[1]] = row
    return rows, repeated


def parse_number(cell: str) -> float | None:
    """A number as an LMS writes it ('25', '25.00', Moodle's '25,00'); None if not one."""
    text = cell.strip().replace(",", ".") if cell.count(",") == 1 and "." not in cell \
        else cell.strip().replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None
