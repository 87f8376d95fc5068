"""Files a class download can carry that must cost only their own student (step 17b).
Names a submission chooses that a spreadsheet would run as formulas: every CSV
written for people neutralises them in text cells (OWASP: a leading ``'``) and leaves
numbers alone; the files an LMS imports back keep its own format. Symbolic links in a
submission: never followed, left out with the link and its target named."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import os
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader.core.parsing import TooDeep, Unparsable, load_json, parse_python
from grader.instructor.common.spreadsheet import text_cell
from grader.instructor.common.submission import NO_FILES, OK, UNREADABLE, SubmissionsError
from grader.instructor.intake.files import find_student_files
from grader.instructor.intake.find import discover, find
from grader.instructor.reports import grades
from grader.instructor.similarity import report
from grader.instructor.similarity.results import Code, Comparison, PairFile
from helpers import ROOT, grade_json, make_submission, messages, run_autograder

FORMULAS = ['=HYPERLINK("http:x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_text_cell_that_a_spreadsheet_would_run_gets_a_quote(text):
    assert text_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["alice", "Doe, Jane", "a=b", "", "'quoted", "1e5"])
def test_other_text_is_written_as_it_is(text):
    assert text_cell(text) == text
    assert text_cell(None) == ""


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_grades_csv_quotes_the_names_a_submission_chose_and_keeps_numbers():
    records = [{"id": FORMULAS[0], "status": "graded", "seconds": 1.5, "seed": 0,
                "submitters": [{"name": "+Ada", "email": "@ada", "sid": "-17"}],
                "lms": {"system": "canvas", "user_id": "=1+2", "late": False},
                "result": {"course": "current", "total": -1.0,
                           "questions": {"q1": {"points": -1.0, "max": 5}}}}]
    table = rows(grades.csv_text(records))
    header, possible, row = table[0], table[1], table[2]
    cell = dict(zip(header, row))
    assert cell["id"] == "'" + FORMULAS[0]
    assert (cell["name"], cell["email"], cell["sid"]) == ("'+Ada", "'@ada", "'-17")
    assert cell["lms_id"] == "'=1+2"
    assert cell["q1"] == "-1" and cell["total"] == "-1"      # numbers are numbers
    assert cell["status"] == "graded" and cell["course"] == "current"
    assert possible[0] == "points possible"


def test_similarity_csv_quotes_the_ids(tmp_path):
    pair = PairFile("-rm", "@bob", "models.py", 0.9, 0.8, 3, True)
    code = {(owner, "models.py"): Code(owner, "models.py", "x = 1\n")
            for owner in ("-rm", "@bob")}
    comparison = Comparison(pairs=[pair], code=code, threshold=0.5,
                            best={"-rm": 0.9, "@bob": 0.8}, files=("models.py",))
    report.write_report(tmp_path, comparison)
    table = rows((tmp_path / report.CSV_NAME).read_text(encoding="utf-8"))
    assert table[1][:3] == ["'-rm", "'@bob", "models.py"]
    assert table[1][3:5] == ["0.900", "0.800"]


# ------------------------------------------------------------------ symbolic links

STAFF_MODELS = ROOT / "tests" / "reference" / "models.py"


def test_a_linked_student_file_is_left_out_and_named(tmp_path):
    """A folder's models.py that links to the staff solution is never graded as the
    student's: left out, with the link and its target named; the rest is graded."""
    root = tmp_path / "class"
    (root / "alice").mkdir(parents=True)
    (root / "alice" / "models.py").symlink_to(STAFF_MODELS)
    (root / "alice" / "train.py").write_text("x = 1\n")
    (root / "alice" / "notes.py").symlink_to(root / "alice" / "train.py")   # inside
    _, [alice] = discover(root, tmp_path / "work")
    assert alice.status == OK and "models.py" not in alice.files
    assert "notes.py" not in alice.files and alice.files["train.py"].name == "train.py"
    assert f"'models.py' is a symbolic link to '{STAFF_MODELS}' (outside the submission)" \
        in alice.problem
    assert "'notes.py' is a symbolic link to" in alice.problem
    assert "(inside the submission)" in alice.problem
    files, problems = find_student_files(root / "alice")     # Gradescope's search
    assert "models.py" not in files and any("symbolic link" in p for p in problems)


def test_a_linked_folder_is_not_followed(tmp_path):
    root = tmp_path / "class"
    (root / "bob" / "nested").mkdir(parents=True)
    (root / "bob" / "nested" / "code").symlink_to(STAFF_MODELS.parent, target_is_directory=True)
    (root / "carol").symlink_to(STAFF_MODELS.parent, target_is_directory=True)
    _, submissions = discover(root, tmp_path / "work")
    by_id = {sub.id: sub for sub in submissions}
    assert by_id["bob"].status == NO_FILES and by_id["bob"].files == {}
    assert "'nested/code' is a symbolic link" in by_id["bob"].problem
    assert by_id["carol"].status == UNREADABLE and by_id["carol"].files == {}
    assert "'carol' is a symbolic link to" in by_id["carol"].problem


def test_a_linked_entry_of_an_lms_download_is_not_followed(tmp_path):
    download = tmp_path / "download"
    download.mkdir()
    (download / "doejane_12345_67890_train.py").write_text("x = 1\n")
    (download / "doejane_12345_67891_models.py").symlink_to(STAFF_MODELS)
    found = find(download, tmp_path / "work", "canvas")
    [jane] = found.submissions
    assert "models.py" not in jane.files and "train.py" in jane.files
    assert any("doejane_12345_67891_models.py' is a symbolic link" in note
               for note in found.notes)


# ------------------------------------------------------------------ autograder.py --student-dir

def hostile_models(kind: str, folder: Path) -> Path:
    make_submission(folder, omit=("models.py",))
    models = folder / "models.py"
    if kind == "link":
        models.symlink_to(STAFF_MODELS)
    elif kind == "large":
        models.write_text(STAFF_MODELS.read_text(encoding="utf-8") + "#" * (3 * 2**20) + "\n")
    else:
        models.write_bytes(b"import torch\n\x00\x01\x02binary")
    return folder


@pytest.mark.parametrize("kind, says", [
    ("link", f"models.py is a symbolic link to '{STAFF_MODELS}': it was left out, since "
             "links are never followed"),
    ("large", "models.py is 3.0 MB, over the 2.0 MB a student file may be: it was left out"),
    ("binary", "models.py holds binary bytes (a NUL byte at byte 13), not Python source "
               "text: it was left out"),
])
def test_a_linked_large_or_binary_student_file_is_named_and_not_graded(tmp_path, kind, says):
    """In every mode (here the one with no sandbox, which would follow a link), the
    file is never imported, and both the start and the question say why."""
    student = hostile_models(kind, tmp_path / "student")
    process, results = grade_json(tmp_path, student, "-q", "q1", "--isolation", "none")
    assert f"Note: {says}" in process.stdout
    assert results["questions"]["q1"]["points"] == 0
    assert says in messages(results, "q1")


def test_a_folder_holding_only_a_zip_says_to_unzip_it(tmp_path):
    student = tmp_path / "student"
    student.mkdir()
    with zipfile.ZipFile(student / "xyz123_Project3.zip", "w") as archive:
        archive.write(STAFF_MODELS, "models.py")
    process, _ = grade_json(tmp_path, student, "-q", "q1", "--isolation", "none")
    assert "holds xyz123_Project3.zip: autograder.py grades the files in the folder, never " \
           "inside a zip; unzip it there" in process.stdout


# ------------------------------------------------------------------ parsers inside limits

DEEP_NOTEBOOK = '{"cells": ' + "[" * 5000 + "]" * 5000 + "}"
HUGE_EXPRESSION = "\nBIG = " + "+".join(["1"] * 100_000) + "\n"


def test_every_failure_of_the_python_parser_is_a_syntax_error():
    with pytest.raises(Unparsable, match="chains or nests expressions too deeply"):
        parse_python(HUGE_EXPRESSION, "models.py")
    with pytest.raises(SyntaxError):
        parse_python("def f(:\n")
    assert parse_python("x = 1\n").body


def test_every_failure_of_the_json_parser_is_a_value_error():
    with pytest.raises(TooDeep, match="nested deeper than any notebook"):
        load_json(DEEP_NOTEBOOK)
    with pytest.raises(ValueError):
        load_json("{")
    assert load_json('{"cells": []}') == {"cells": []}


def notebook_of(*cells: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None,
                                  "outputs": [], "source": cell} for cell in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def zip_nested(depth: int) -> bytes:
    """The staff models.py in a zip, in a zip... ``depth`` zips in all."""
    inner, name = STAFF_MODELS.read_bytes(), "models.py"
    for level in range(depth):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zipped:
            zipped.writestr(name, inner)
        inner, name = buffer.getvalue(), f"level{level}.zip"
    return inner


def test_a_hostile_class_costs_only_its_own_students(tmp_path):
    """Hostile files graded in one bulk class beside the staff solution: the run
    finishes, each hostile submission gets its own status and message, and the honest
    ones beside a hostile file keep full marks. Hostile: a notebook nested 5,000 levels
    deep, an expression Python cannot compile, a linked and a binary models.py, a folder
    named as a formula, a notebook cell of 50 MB on one line, a zip of 100,000 entries,
    a file name of 255 bytes, names differing only in case, file and folder names that
    are not UTF-8, zips nested 40 deep."""
    root = tmp_path / "class"
    make_submission(root / "good")
    (root / "deep").mkdir()
    (root / "deep" / "homework.ipynb").write_text(DEEP_NOTEBOOK)
    make_submission(root / "huge", appended={"models.py": HUGE_EXPRESSION})
    hostile_models("link", root / "linked")
    hostile_models("binary", root / "binary")
    make_submission(root / '=HYPERLINK("http:x","y")')
    big = make_submission(root / "bigcell", omit=("models.py",))
    (big / "homework.ipynb").write_text(notebook_of(
        "s = '" + "a" * 50_000_000 + "'", STAFF_MODELS.read_text(encoding="utf-8")))
    with zipfile.ZipFile(root / "many.zip", "w") as zipped:
        for number in range(100_000 - 4):
            zipped.writestr(f"empty/{number}", b"")
        for name in ("models.py", "losses.py", "train.py", "gpt_model.py"):
            zipped.write(STAFF_MODELS.parent / name, name)
    long_name = "n" * 252 + ".py"
    (make_submission(root / "longname") / long_name).write_text("x = 1\n")
    (make_submission(root / "case") / "Models.py").write_text("x = 1\n")
    garbled = make_submission(root / "garbled")
    with open(os.path.join(os.fsencode(garbled), b"\xff\xfe.py"), "w") as file:
        file.write("x = 1\n")
    make_submission(Path(os.fsdecode(os.path.join(os.fsencode(root), b"stud\xe9nt"))))
    (root / "nested.zip").write_bytes(zip_nested(40))
    out = tmp_path / "out"
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-m", "grader", "bulk", str(root), "--out", str(out), "-q", "q1",
         "--isolation", "none", "--jobs", "2", "--similarity"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    print(f"the hostile class took {time.monotonic() - started:.1f} s")
    assert process.returncode == 0, process.stderr
    assert "internal error" not in process.stderr
    reader = list(csv.reader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))
    header = reader[0]
    table = {row[0]: dict(zip(header, row)) for row in reader[2:]}
    for name in ("good", "'" + FORMULAS[0], "bigcell", "many", "longname", "case", "garbled",
                 "stud\\xe9nt"):
        assert table[name]["q1"] == "5" and table[name]["status"] == "graded", name
    assert table["deep"]["status"] == "unreadable"
    for name in ("huge", "linked", "binary"):
        assert table[name]["status"] == "graded" and table[name]["q1"] == "0", name
    assert table["nested"]["status"] == "no-files"

    def problem(sub_id: str) -> str:
        path = out / "results" / f"{sub_id}.json"
        return json.loads(path.read_text(encoding="utf-8"))["problem"]

    assert "homework.ipynb cannot be read: it is JSON nested deeper" in problem("deep")
    assert f"'models.py' is a symbolic link to '{STAFF_MODELS}' (outside the submission)" \
        in problem("linked")
    assert "'Models.py' is left out: its name differs from 'models.py' only in case" \
        in problem("case")
    assert "'\\xff\\xfe.py' is left out: its name is not UTF-8 text" in problem("garbled")
    assert "'level38.zip' is a zip inside the submission, and only one level of zip is " \
           "opened" in problem("nested")
    assert (out / "similarity.csv").is_file()


def test_autograder_refuses_a_folder_whose_only_work_cannot_be_read(tmp_path):
    """At the terminal, exit status 2 and why; with --json (bulk, Gradescope), a
    graded run whose start names the file."""
    student = tmp_path / "student"
    student.mkdir()
    (student / "homework.ipynb").write_text(DEEP_NOTEBOOK)
    process, _ = run_autograder("--student-dir", str(student), "--no-graphics", "-q", "q1",
                                "--isolation", "none")
    assert process.returncode == 2, process.stdout + process.stderr
    assert "autograder.py: cannot grade: none of models.py, losses.py, train.py, " \
           "gpt_model.py is in " in process.stderr
    assert "and homework.ipynb cannot be read: it is JSON nested deeper than any notebook " \
           "Jupyter saves" in process.stderr
    assert "Traceback" not in process.stderr


def test_autograder_names_a_notebook_nested_too_deep(tmp_path):
    student = tmp_path / "student"
    student.mkdir()
    (student / "homework.ipynb").write_text(DEEP_NOTEBOOK)
    process, _ = grade_json(tmp_path, student, "-q", "q1", "--isolation", "none")
    assert "Note: homework.ipynb is ignored: it cannot be read: it is JSON nested deeper " \
           "than any notebook Jupyter saves" in process.stdout


# ------------------------------------------------------------------ zips within limits

@pytest.mark.parametrize("limit, value, says", [
    ("MAX_ZIP_ENTRIES", 3, "many.zip has 5 entries (limit 3): not extracted; open it by hand"),
    ("MAX_ZIP_BYTES", 100, "many.zip holds 500 bytes uncompressed (limit 100): not extracted"),
])
def test_a_zip_over_a_limit_is_refused_with_its_figure_and_the_limit(tmp_path, monkeypatch,
                                                                     limit, value, says):
    """The student's own zip: that submission is unreadable, with the figure, the
    limit and what to do; the class zip itself: the whole input is refused, saying so."""
    monkeypatch.setattr(f"grader.instructor.intake.files.{limit}", value)
    root = tmp_path / "in"
    root.mkdir()
    with zipfile.ZipFile(root / "many.zip", "w") as zipped:
        for number in range(5):
            zipped.writestr(f"part{number}.py", "x" * 100)
    make_submission(root / "good")
    _, submissions = discover(root, tmp_path / "work")
    by_id = {sub.id: sub for sub in submissions}
    assert by_id["many"].status == UNREADABLE and says in by_id["many"].problem
    assert by_id["good"].status == OK
    with pytest.raises(SubmissionsError, match="many.zip"):
        discover(root / "many.zip", tmp_path / "work2")


# ------------------------------------------------------------------ Gradescope's metadata

def gradescope_export(root: Path, metadata: str) -> Path:
    make_submission(root / "submission_1")
    (root / "submission_metadata.yml").write_text(metadata, encoding="utf-8")
    return root


def test_gradescope_metadata_nested_too_deep_is_refused_with_a_message(tmp_path):
    root = gradescope_export(tmp_path / "export", "[" * 5000 + "]" * 5000)
    with pytest.raises(SubmissionsError, match="nested too deeply or too large to read; "
                                               "export the submissions from Gradescope again"):
        discover(root, tmp_path / "work")


def test_gradescope_metadata_aliases_never_expand_into_a_name(tmp_path):
    """YAML aliases nine deep make a list of 9**9 items if expanded: a name that is not
    text is no name, read at once."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))
    metadata = bomb + "submission_1:\n  :submitters:\n  - :name: *i\n    :sid: '42'\n"
    root = gradescope_export(tmp_path / "export", metadata)
    started = time.monotonic()
    _, submissions = discover(root, tmp_path / "work")
    assert time.monotonic() - started < 10
    submitter, = submissions[0].submitters
    assert (submitter.name, submitter.sid) == ("", "42")
