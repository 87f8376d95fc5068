"""What students read names their own files and says what a figure measures.

- Messages name the student's folder as they gave it, never the copy a sandbox works
  in (``--sandbox-user``, ``--isolation bwrap``) nor bulk's work folder: the course
  skeleton, a folder missing a file and a crashing submission are graded in each mode
  available here, and every word of the output, the JSON and bulk's pages is searched
  for our internal folders.
- A measured figure is shown in the unit of its threshold ("100.00%", required
  "100%"), and the class overview groups failures without changing numbers in code.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from grader.core.results import (COUNT, FRACTION, LOSS, Measured, failed, format_figure,
                                 format_requirement, passed)
from grader.core.source import StudentFiles
from grader.core.table import Check, Question
from grader.instructor.reports.feedback import _check_view, failure_kind
from grader.judge.report import write_json
from helpers import ROOT, STUDENT_FILES, copy_project, make_submission, run_autograder
from test_bulk import bulk
from test_bwrap import BUBBLEWRAP_PROBLEM
from test_isolation import USER, python_reachable, sandbox_user

__all__ = ["python_reachable", "sandbox_user"]     # fixtures, used by name below

# Folders of ours that must never reach a student: the sandbox's copies (the public
# tree and its job folders, a question's private staff copy, a plain job folder) and
# bulk's work folder.
INTERNAL = ("grader-isolated", "grader-staff-", "grader-job-", ".work/run-", ".work/")

# q1 code that warns and then raises an exception naming a file in its own folder
# (models.py), and a syntax error in the other file q1 imports (train.py).
WARNS_AND_RAISES = '''
import os as _os
import warnings as _warnings


def _forward(self, x):
    _warnings.warn("a warning from student code")
    open(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "no_such_file.txt"))


PerceptronModel.forward = _forward
'''
SYNTAX_ERROR = "def broken(:\n    pass\n"


def submissions(base: Path) -> dict[str, Path]:
    """The course skeleton, the reference without models.py, and a crashing one."""
    skeleton = base / "skeleton"
    skeleton.mkdir(parents=True)
    for name in STUDENT_FILES:
        (skeleton / name).write_bytes((ROOT / name).read_bytes())
    return {"skeleton": skeleton,
            "missing": make_submission(base / "missing", omit=("models.py",)),
            "crashing": make_submission(base / "crashing", {"models.py": WARNS_AND_RAISES,
                                                            "train.py": SYNTAX_ERROR})}


def assert_no_internal_path(text: str, where: str) -> None:
    for marker in INTERNAL:
        assert marker not in text, f"{where} shows our internal folder {marker!r}:\n{text}"


@pytest.fixture(params=["none", "bwrap", "user"])
def mode(request):
    """The autograder's command for one isolation mode: (project, options)."""
    if request.param == "none":
        return ROOT, ["--isolation", "none"]
    if request.param == "bwrap":
        if BUBBLEWRAP_PROBLEM:
            pytest.skip(BUBBLEWRAP_PROBLEM)
        return ROOT, ["--isolation", "bwrap"]
    request.getfixturevalue("sandbox_user")          # skips without root
    request.getfixturevalue("python_reachable")
    tmp_path = request.getfixturevalue("tmp_path")   # root's alone, as the project must be
    return copy_project(tmp_path / "project"), ["--sandbox-user", USER, "--isolation", "user"]


def test_messages_name_the_students_folder_in_every_mode(mode, tmp_path):
    project, options = mode
    graded = {}
    for name, folder in submissions(tmp_path / "submissions").items():
        json_path = tmp_path / f"{name}.json"
        process, results = run_autograder("--student-dir", str(folder), "-q", "q1",
                                          "--no-graphics", "--json", str(json_path),
                                          *options, cwd=tmp_path, project=project,
                                          timeout=600)
        assert process.returncode == 0, process.stdout + process.stderr
        text = process.stdout + process.stderr
        assert_no_internal_path(text, f"{name}'s output")
        assert_no_internal_path(json_path.read_text(encoding="utf-8"), f"{name}'s JSON")
        graded[name] = (text, results, folder)

    text, results, folder = graded["missing"]
    assert f"models.py was not submitted (there is no {folder / 'models.py'})." in text
    assert results["student_dir"] == str(folder)

    text, results, folder = graded["crashing"]
    # The exception's own text, the warning (printed by Python) and the syntax error.
    assert (f"raised FileNotFoundError: [Errno 2] No such file or directory: "
            f"'{folder / 'no_such_file.txt'}'") in text
    assert f"{folder / 'models.py'}:" in text and "UserWarning: a warning from student code" in text
    assert '_warnings.warn("a warning from student code")' in text    # its source line
    assert "train.py has a syntax error (train.py, line" in text
    assert 'File "models.py", line' in text

    text, results, _ = graded["skeleton"]
    assert results["total"] == 0 and "FAIL" in text


def test_bulk_names_the_files_of_the_submission(tmp_path):
    """One bulk run over zips: messages, outputs, results and pages name the files by
    their names in the submission, and the page shows the accuracy as a percentage."""
    made = submissions(tmp_path / "made")
    make_submission(tmp_path / "made" / "good")
    folder = tmp_path / "zips"
    folder.mkdir()
    for name in ("missing", "crashing", "good"):
        with zipfile.ZipFile(folder / f"{name}.zip", "w") as archive:
            for path in sorted((tmp_path / "made" / name).glob("*.py")):
                archive.write(path, f"hw/{path.name}")
    out = tmp_path / "out"
    process = bulk("bulk", folder, "--out", out, "-q", "q1", "--jobs", "2")
    assert process.returncode == 0, process.stdout + process.stderr
    assert made["missing"].is_dir()

    written = [path for pattern in ("results/*.json", "output/*.txt", "feedback/*.html",
                                    "index.html", "grades.csv")
               for path in sorted(out.glob(pattern))]
    assert len(written) >= 3 * 3 + 2
    for path in written:
        assert_no_internal_path(path.read_text(encoding="utf-8"), str(path.relative_to(out)))

    def result(name):
        return json.loads((out / "results" / f"{name}.json").read_text())["result"]

    def messages(name):
        return "\n".join(test["message"] for test in result(name)["tests"])

    assert "models.py was not submitted (it is not among the submission's files)." in \
        messages("missing")
    crashing = messages("crashing")
    assert "No such file or directory: 'no_such_file.txt'" in crashing
    assert "train.py has a syntax error (train.py, line" in crashing
    assert "models.py:" in result("crashing")["questions"]["q1"]["output"]
    assert result("crashing")["student_dir"] == ""

    page = (out / "feedback" / "good.html").read_text(encoding="utf-8")
    assert "measured: 100.00% (required: 100%)" in page
    assert "measured: 1<" not in page and "measured: 1 " not in page


# ------------------------------------------------------------------ units

QUESTION = Question("q1", "Perceptron", checks=(Check("converge", "100% training accuracy", 2),),
                    student_files=("models.py",), module="grader.assignments.course.questions"
                    ".perceptron", time_limit=60)


def test_figures_are_shown_in_their_unit():
    assert format_figure(1.0, FRACTION) == "100.00%"
    assert format_figure(0.97512, FRACTION) == "97.51%"
    assert format_figure(3.0, COUNT) == "3"
    assert format_figure(0.0123456, LOSS) == format_figure(0.0123456) == "0.01235"
    assert format_requirement(FRACTION, 1.0, None) == "100%"
    assert format_requirement(FRACTION, 0.975, None) == "97.5%"
    assert format_requirement(LOSS, None, 0.02) == "at most 0.02"
    assert format_requirement("", 2.0, 5.0) == "at least 2 and at most 5"
    assert format_requirement(FRACTION, None, None) == ""


def test_a_check_result_records_its_unit_and_the_json_carries_it(tmp_path):
    check = QUESTION.checks[0]
    result = passed(QUESTION, check, "ok", Measured(1.0, FRACTION, at_least=1.0))
    assert (result.metric, result.unit, result.at_least, result.at_most) == (1.0, FRACTION,
                                                                              1.0, None)
    assert (result.figure, result.requirement) == ("100.00%", "100%")
    plain = failed(QUESTION, check, "no", 0.5)           # a bare number, as before
    assert (plain.metric, plain.unit, plain.figure, plain.requirement) == (0.5, "", "0.5", "")

    from grader.core.results import QuestionResult
    path = tmp_path / "results.json"
    write_json(path, [QuestionResult(QUESTION, (result,))], 0, "folder", 1.0)
    test = json.loads(path.read_text())["tests"][0]
    assert test["metric"] == 1.0 and test["unit"] == FRACTION
    assert test["at_least"] == 1.0 and test["at_most"] is None

    view = _check_view(test)
    assert (view["figure"], view["required"]) == ("100.00%", "100%")
    # Results written before units were recorded show the bare number.
    old = {key: value for key, value in test.items() if key not in ("unit", "at_least",
                                                                    "at_most")}
    assert (_check_view(old)["figure"], _check_view(old)["required"]) == ("1", "")


def test_the_course_verdicts_state_the_unit_of_their_figures():
    """Every measured figure of the course's and the shared checks says its unit
    (the modules' `metric=` arguments are Measured values)."""
    import re
    for path in [ROOT / "grader/checks/classifier.py",
                 *sorted((ROOT / "grader/assignments/course/questions").glob("*.py")),
                 *sorted((ROOT / "grader/assignments/mlp_from_scratch/questions").glob("*.py"))]:
        for found in re.finditer(r"metric=([^,)]+)", path.read_text()):
            assert found.group(1).startswith(("Measured(", "figure")), (path.name, found.group())


def test_failures_are_grouped_with_the_numbers_in_code_kept():
    assert failure_kind("self.w = Parameter(ones(1, 3)) has shape (1, 3); expected 5 rows") == \
        "self.w = Parameter(ones(1, 3)) has shape (#, #); expected # rows"
    assert failure_kind("use `x.view(-1, 784)` instead of 3 loops") == \
        "use `x.view(-1, 784)` instead of # loops"
    assert failure_kind("Linear(2, 16), Linear(16, 4): 1 hidden layer(s) of 16 units") == \
        "Linear(2, 16), Linear(16, 4): # hidden layer(s) of # units"
    # Other numbers and absolute paths still go; thousands stay one number.
    assert failure_kind("accuracy 91.2% on 5,000 digits (required: 97%)\nHint: more") == \
        "accuracy # on # digits (required: #)"
    assert failure_kind("there is no /home/ann/hw/models.py (line 12)") == \
        "there is no ... (line #)"
    assert failure_kind("models.py has a syntax error (models.py, line 130): invalid syntax") \
        == "models.py has a syntax error (models.py, line #): invalid syntax"


def test_student_files_are_named_as_the_student_knows_them(tmp_path):
    copy = tmp_path / "job" / "student"
    copy.mkdir(parents=True)
    files = StudentFiles(tmp_path / "project", copy, "/home/ann/hw")
    assert files.shown(str(copy / "models.py")) == "/home/ann/hw/models.py"
    assert files.shown("/usr/lib/python3/x.py") == "/usr/lib/python3/x.py"
    assert files.shown_text(f"No such file: '{copy}/data.txt' in {copy}.") == \
        "No such file: '/home/ann/hw/data.txt' in /home/ann/hw."
    assert files.shown_text(f"{copy}2/x") == f"{copy}2/x"      # another folder
    alone = StudentFiles(tmp_path / "project", copy, "")
    assert alone.shown(str(copy / "models.py")) == "models.py"
    assert alone.shown_text(f"'{copy}/data.txt' in {copy}") == "'data.txt' in ."
    same = StudentFiles(tmp_path / "project", copy)
    assert same.shown(str(copy / "models.py")) == str(copy / "models.py")
    assert same.shown_text(f"'{copy}/x'") == f"'{copy}/x'"
