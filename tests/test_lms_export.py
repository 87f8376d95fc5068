"""Grades and feedback back to the LMS: ``python -m grader export`` on a real bulk run
(q6 only, a few seconds) whose records are given the ``lms`` key a Canvas or Moodle
download leaves in them.

The LMS files, as the LMS writes them (built below, nothing is downloaded):

Canvas's gradebook export (Grades > Export): UTF-8 with a byte-order mark, CRLF line
ends. The header row is ``Student, ID, SIS User ID, SIS Login ID, Section``, then one
column per assignment named ``<assignment name> (<assignment id>)``, then read-only
totals (``Current Points``, ``Final Score``, ...). Rows with an empty ID come first: a
posting-policy row (``Manual Posting`` under an assignment that posts by hand; ``Muted``
in older exports), then ``    Points Possible`` with each assignment's points and
``(read only)`` under the totals. Each student's row holds the Canvas user id in ID
(the id in the file names of "Download Submissions"). The import takes the same file
with changed cells.

Moodle's grading worksheet (View all submissions > Download grading worksheet):
``Identifier`` (``Participant <id>``, the id in the folder names
``<full name>_<id>_assignsubmission_file_`` of "Download all submissions"), ``Full
name``, ``Email address``, ``Status``, ``Grade``, ``Maximum Grade``, ``Grade can be
changed``, ``Last modified (submission)``, ``Last modified (grade)``, ``Feedback
comments``. Its upload reads Identifier, Grade, Last modified (grade) and the feedback
columns by header, and skips grades above the maximum.

Moodle's "Upload multiple feedback files in a zip" splits each path part at
underscores: ``<full name>_<participant id>_<plugin type>_<plugin name>_`` names the
participant (the second field), and the files inside become that participant's
feedback files.
"""

import csv
import io
import json
import shutil
import zipfile

import pytest
from test_bulk import bulk

from grader.instructor.commands.main import main
from helpers import make_submission

BOM = "\ufeff"
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                 "Project 3 (5501)", "Quiz 1 (5502)", "Current Points", "Final Points",
                 "Current Score", "Final Score"]
CANVAS_ROWS = [
    ["", "", "", "", "", "Manual Posting", "", "", "", "", ""],
    ["    Points Possible", "", "", "", "", "2.00", "10.00", "(read only)", "(read only)",
     "(read only)", "(read only)"],
    ["Smith, Alice", "101", "s101", "asmith", "ML 101", "", "9.00", "9", "9", "75", "75"],
    ["Brown, Bob", "102", "s102", "bbrown", "ML 101", "", "", "0", "0", "0", "0"],
    ["Dunn, Dan", "104", "s104", "ddunn", "ML 101", "", "7.50", "7.5", "7.5", "62", "62"],
    ["Fox, Frank", "106", "s106", "ffox", "ML 101", "1.50", "8.00", "9.5", "9.5", "79", "79"],
    ["Student, Test", "999", "", "", "ML 101", "", "", "", "", "", ""],
]
MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade",
                 "Maximum Grade", "Grade can be changed", "Last modified (submission)",
                 "Last modified (grade)", "Feedback comments"]
MOODLE_ROWS = [
    ["Participant 2001", "Alice Smith", "alice@example.org", "Submitted for grading", "",
     "2.00", "Yes", "Monday, 3 March 2025, 9:14 AM", "-", ""],
    ["Participant 2002", "Bob Brown", "bob@example.org", "Submitted for grading", "",
     "2.00", "Yes", "Monday, 3 March 2025, 9:20 AM", "-", ""],
    ["Participant 2004", "Dan Dunn", "dan@example.org", "Submitted for grading", "",
     "2.00", "Yes", "Monday, 3 March 2025, 9:31 AM", "-", ""],
    ["Participant 2006", "Frank Fox", "frank@example.org", "No submission", "1.00",
     "2.00", "Yes", "-", "Tuesday, 4 March 2025, 8:00 AM", "kept"],
]
# submission id -> (Canvas name, Canvas id, Moodle name, Moodle participant id)
PEOPLE = {"alice": ("Smith, Alice", "101", "Alice Smith", "2001"),
          "bob": ("Brown, Bob", "102", "Bob Brown", "2002"),
          "dan": ("Dunn, Dan", "104", "Dan Dunn", "2004"),
          "erin": ("Evans, Erin", "105", "Mary_Erin Evans", "2005")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A bulk run of q6: alice earns 2/2, bob 0/2 (a syntax error), dan handed in
    nothing, erin (2/2) is in no gradebook."""
    base = tmp_path_factory.mktemp("lms")
    folder = base / "submissions"
    make_submission(folder / "alice")
    make_submission(folder / "bob", {"models.py": "def broken(:\n    pass"})
    (folder / "dan").mkdir(parents=True)
    make_submission(folder / "erin")
    out = base / "out"
    process = bulk("bulk", folder, "--out", out, "-q", "q6", "--jobs", "2")
    assert process.returncode == 0, process.stdout + process.stderr
    return out


def lms_run(graded, tmp_path, system, change=None):
    """A copy of the bulk run whose records came from ``system``'s download."""
    out = tmp_path / f"{system}-out"
    shutil.copytree(graded, out)
    for path in (out / "results").glob("*.json"):
        record = json.loads(path.read_text())
        canvas_name, canvas_id, moodle_name, moodle_id = PEOPLE[record["id"]]
        record["lms"] = {"system": system, "late": record["id"] == "bob", "set_aside": [],
                         "name": canvas_name if system == "canvas" else moodle_name,
                         "user_id": canvas_id if system == "canvas" else moodle_id}
        if change:
            change(record)
        path.write_text(json.dumps(record))
    return out


class Ran:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def export(capsys):
    """``python -m grader export ...`` in this process (a subprocess costs a second)."""
    def run(*args):
        capsys.readouterr()
        code = main(["export", *map(str, args)])
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)
    return run


def write_csv(path, header, rows, bom=True, newline="\r\n"):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows([header, *rows])
    path.write_bytes(((BOM if bom else "") + buffer.getvalue()).encode("utf-8"))
    return path


def read_csv(path):
    text = path.read_bytes().decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_canvas_fills_one_column_matched_on_the_canvas_id(graded, tmp_path, export):
    out = lms_run(graded, tmp_path, "canvas")
    gradebook = write_csv(tmp_path / "gradebook.csv", CANVAS_HEADER, CANVAS_ROWS)
    process = export("canvas", out, "--gradebook", gradebook, "--column", "Project 3")
    assert process.returncode == 0, process.stderr
    written = out / "canvas-import.csv"
    assert b"\r\n" in written.read_bytes() and b"\n\n" not in written.read_bytes()
    rows = read_csv(written)
    expected = [CANVAS_HEADER, *[list(row) for row in CANVAS_ROWS]]
    expected[3][5] = "2"          # alice: 2/2
    expected[4][5] = "0"          # bob: graded, 0/2
    assert rows == expected       # dan (no files) and frank (no submission) unchanged
    assert "1 of them were late: no penalty applied here" in process.stdout
    assert "2 grades in column 'Project 3 (5501)'" in process.stdout
    assert "Evans, Erin (canvas id 105)" in process.stderr      # in no row: listed
    assert "Dunn, Dan (canvas id 104): no-files" in process.stderr


def test_canvas_asks_which_column_and_refuses_what_is_not_its_gradebook(graded, tmp_path, export):
    out = lms_run(graded, tmp_path, "canvas")
    gradebook = write_csv(tmp_path / "gradebook.csv", CANVAS_HEADER, CANVAS_ROWS)
    process = export("canvas", out, "--gradebook", gradebook)
    assert process.returncode == 2
    assert ("has 2 assignment columns; choose one with --column NAME: 'Project 3 (5501)'; "
            "'Quiz 1 (5502)'") in process.stderr
    process = export("canvas", out, "--gradebook", gradebook, "--column", "Project 4")
    assert process.returncode == 2 and "no assignment column 'Project 4'" in process.stderr
    worksheet = write_csv(tmp_path / "worksheet.csv", MOODLE_HEADER, MOODLE_ROWS)
    process = export("canvas", out, "--gradebook", worksheet)
    assert process.returncode == 2
    assert "it is Moodle's grading worksheet (it has Identifier and Full name)" in process.stderr
    no_section = write_csv(tmp_path / "cut.csv", CANVAS_HEADER[:4] + CANVAS_HEADER[5:],
                           [row[:4] + row[5:] for row in CANVAS_ROWS])
    process = export("canvas", out, "--gradebook", no_section, "--column", "5501")
    assert process.returncode == 2 and "has no 'Section' column" in process.stderr
    assert "Traceback" not in process.stderr
    assert not (out / "canvas-import.csv").exists()


def test_canvas_points_possible_must_match_unless_scaled(graded, tmp_path, export):
    out = lms_run(graded, tmp_path, "canvas")
    rows = [list(row) for row in CANVAS_ROWS]
    rows[1][5] = "25.00"
    gradebook = write_csv(tmp_path / "gradebook.csv", CANVAS_HEADER, rows)
    process = export("canvas", out, "--gradebook", gradebook, "--column", "5501")
    assert process.returncode == 2
    assert "Points Possible of 'Project 3 (5501)' is 25 points but this run's total is 2" \
        in process.stderr
    process = export("canvas", out, "--gradebook", gradebook, "--column", "5501",
                   "--scale")
    assert process.returncode == 0, process.stderr
    assert read_csv(out / "canvas-import.csv")[3][5] == "25"


def test_extra_credit_goes_above_the_maximum_in_canvas_and_stops_there_in_moodle(
        graded, tmp_path, export):
    def extra(record):
        if record["id"] == "alice":
            record["result"]["total"] = 2.5
            record["result"]["extra_credit"] = 0.5
    out = lms_run(graded, tmp_path, "canvas", extra)
    gradebook = write_csv(tmp_path / "gradebook.csv", CANVAS_HEADER, CANVAS_ROWS)
    process = export("canvas", out, "--gradebook", gradebook, "--column", "5501")
    assert process.returncode == 0, process.stderr
    assert read_csv(out / "canvas-import.csv")[3][5] == "2.5"
    assert "written as points above the 2 possible (Canvas accepts them): 1 above it: " \
        "Smith, Alice (canvas id 101)" in process.stdout
    out = lms_run(graded, tmp_path / "m", "moodle", extra)
    worksheet = write_csv(tmp_path / "worksheet.csv", MOODLE_HEADER, MOODLE_ROWS)
    process = export("moodle", out, "--worksheet", worksheet)
    assert process.returncode == 0, process.stderr
    alice = read_csv(out / "moodle-worksheet.csv")[1]
    assert alice[4] == "2" and "including 0.5 extra credit" in alice[9]
    assert "Moodle's upload skips a grade above it, so 1 of these stop there" in process.stdout
    assert "Alice Smith (moodle id 2001): 2.5" in process.stdout


def test_moodle_worksheet_gets_grades_and_a_short_comment(graded, tmp_path, export):
    out = lms_run(graded, tmp_path, "moodle")
    worksheet = write_csv(tmp_path / "worksheet.csv", MOODLE_HEADER, MOODLE_ROWS)
    process = export("moodle", out, "--worksheet", worksheet)
    assert process.returncode == 0, process.stderr
    rows = read_csv(out / "moodle-worksheet.csv")
    expected = [MOODLE_HEADER, *[list(row) for row in MOODLE_ROWS]]
    comment = "Autograder: {} of 2 points (q6 Attention: {}/2)."
    expected[1][4], expected[1][9] = "2", comment.format(2, 2)
    expected[2][4], expected[2][9] = "0", comment.format(0, 0)
    assert rows == expected        # dan (no files) and frank (no submission) unchanged
    assert "Mary_Erin Evans (moodle id 2005)" in process.stderr
    assert "Dan Dunn (moodle id 2004): no-files" in process.stderr
    canvas = write_csv(tmp_path / "gradebook.csv", CANVAS_HEADER, CANVAS_ROWS)
    process = export("moodle", out, "--worksheet", canvas)
    assert process.returncode == 2 and "it is Canvas's gradebook export" in process.stderr
    no_max = write_csv(tmp_path / "cut.csv", MOODLE_HEADER[:5] + MOODLE_HEADER[6:],
                       [row[:5] + row[6:] for row in MOODLE_ROWS])
    process = export("moodle", out, "--worksheet", no_max)
    assert process.returncode == 2 and "has no 'Maximum Grade' column" in process.stderr


def test_an_output_of_the_users_is_kept_without_force(graded, tmp_path, export):
    out = lms_run(graded, tmp_path, "moodle")
    worksheet = write_csv(tmp_path / "worksheet.csv", MOODLE_HEADER, MOODLE_ROWS)
    mine = tmp_path / "mine.csv"
    mine.write_text("keep me")
    process = export("moodle", out, "--worksheet", worksheet, "--to", mine)
    assert process.returncode == 2 and "pass --force to overwrite it" in process.stderr
    assert mine.read_text() == "keep me"
    process = export("moodle", out, "--worksheet", worksheet, "--to", mine, "--force")
    assert process.returncode == 0 and read_csv(mine)[1][4] == "2"


def test_moodle_feedback_zip_has_each_page_in_the_participants_folder(graded, tmp_path, export):
    out = lms_run(graded, tmp_path, "moodle")
    process = export("moodle-feedback", out, tmp_path / "feedback.zip")
    assert process.returncode == 0, process.stderr
    with zipfile.ZipFile(tmp_path / "feedback.zip") as archive:
        names = sorted(archive.namelist())
        assert names == ["Alice Smith_2001_assignsubmission_file_/autograder-feedback.html",
                         "Bob Brown_2002_assignsubmission_file_/autograder-feedback.html",
                         "Dan Dunn_2004_assignsubmission_file_/autograder-feedback.html",
                         "Mary Erin Evans_2005_assignsubmission_file_/autograder-feedback.html"]
        assert archive.read(names[0]) == (out / "feedback" / "alice.html").read_bytes()
    for name in names:             # as Moodle reads it: the id is the second field
        assert name.split("/")[0].split("_", 4)[1] in {"2001", "2002", "2004", "2005"}
    process = export("moodle-feedback", out, tmp_path / "feedback.zip")
    assert process.returncode == 2 and "already exists" in process.stderr


def test_canvas_comments_are_written_beside_the_pages(graded, tmp_path, export):
    out = lms_run(graded, tmp_path, "canvas")
    process = export("canvas-comments", out)
    assert process.returncode == 0, process.stderr
    alice = (out / "feedback" / "alice.canvas-comment.txt").read_text()
    assert alice.startswith("Autograder: 2 of 2 points.\nq6 Attention: 2/2\n")
    assert "attached page alice.html" in alice and "http" not in alice
    assert (out / "feedback" / "bob.canvas-comment.txt").read_text().startswith(
        "Autograder: 0 of 2 points.")
    assert "could not grade this submission: no-files" in (
        out / "feedback" / "dan.canvas-comment.txt").read_text()
    assert "wrote 4 comments" in process.stdout


def test_export_needs_a_bulk_run_of_an_lms_download(graded, tmp_path, export):
    gradebook = write_csv(tmp_path / "gradebook.csv", CANVAS_HEADER, CANVAS_ROWS)
    process = export("canvas", tmp_path, "--gradebook", gradebook)
    assert process.returncode == 2 and "is not a bulk run's folder" in process.stderr
    process = export("canvas", graded, "--gradebook", gradebook)
    assert process.returncode == 2
    assert "export needs a Canvas or Moodle download graded by bulk" in process.stderr
    moodle = lms_run(graded, tmp_path, "moodle")
    process = export("canvas", moodle, "--gradebook", gradebook)
    assert process.returncode == 2
    assert "came from a Moodle download, not Canvas" in process.stderr
    process = export("canvas-comments", moodle)
    assert process.returncode == 2 and "Traceback" not in process.stderr


def test_same_names_are_told_apart_by_id_and_one_id_twice_is_never_guessed(
        graded, tmp_path, export):
    def rename(record):        # alice and bob share a name; erin claims dan's id
        if record["id"] in ("alice", "bob"):
            record["lms"]["name"] = "Lee, Sam"
        if record["id"] == "erin":
            record["lms"]["user_id"] = "104"
    out = lms_run(graded, tmp_path, "canvas", rename)
    gradebook = write_csv(tmp_path / "gradebook.csv", CANVAS_HEADER, CANVAS_ROWS)
    process = export("canvas", out, "--gradebook", gradebook, "--column", "5501")
    assert process.returncode == 0, process.stderr
    rows = read_csv(out / "canvas-import.csv")
    assert [rows[3][5], rows[4][5], rows[5][5]] == ["2", "0", ""]   # 101, 102 by id; 104 left
    assert "two submissions with one Canvas id; neither written" in process.stderr
    assert "Evans, Erin (canvas id 104)" in process.stderr
