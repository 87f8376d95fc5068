"""Notebooks and scripts in bulk grading and the Gradescope run: a class's notebooks
(nested, zipped, beside the kit's own files) are found, carried to the folder
autograder.py grades and graded; a submission whose only code is a broken notebook is
`unreadable` with the reason, and nothing else in the run is affected; the feedback
page and Gradescope's output say where the graded code came from."""

from __future__ import annotations

import csv
import html
import io
import json
import shutil
import zipfile

import pytest
from test_bulk import bulk, zip_folder
from test_handed_in import DEPTH_WIDTH, MLP_FROM_SCRATCH, depth_width_notebook, \
    write_notebook

from grader.instructor.grading import gradescope
from grader.instructor.intake.courses import recognise_each
from grader.instructor.intake.files import find_student_files
from grader.instructor.intake.find import discover

NOTEBOOK = "yue.yisong_set4_prob2.ipynb"
# q3b (conv_parameters, 2 points) alone: the answer is a number, graded in a second
FAST = "q3b"
GOOD_CELL = "def conv_parameters():\n    return 8 * (5 * 5 * 3 + 1)"
NOT_JSON = ("prob2.ipynb is not valid JSON (line 1, column 12: Expecting value), so it "
            "is not a notebook Jupyter saved; download it again (File > Download .ipynb)")


def made(folder):
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def rows(out) -> dict[str, dict]:
    table = csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8")))
    return {row["id"]: row for row in table}


def depth_width_class(folder):
    """A depth-width class: a notebook in a nested folder (with a Jupyter checkpoint
    and a Mac's resource fork beside it), a broken notebook alone in a zip, a broken
    notebook beside a good one, and an empty notebook alone."""
    yue = folder / "yue" / "set4" / "prob2"
    yue.mkdir(parents=True)
    depth_width_notebook(yue / NOTEBOOK)
    (yue / ".ipynb_checkpoints").mkdir()
    write_notebook(yue / ".ipynb_checkpoints" / "yue.yisong_set4_prob2-checkpoint.ipynb",
                   ["def conv_parameters():\n    return 0"])
    (folder / "yue" / "__MACOSX").mkdir()
    (folder / "yue" / "__MACOSX" / ("._" + NOTEBOOK)).write_bytes(b"\x00\x05\x16\x07")

    alone = folder.parent / "broken-alone" / "prob2"
    alone.mkdir(parents=True)
    (alone / "prob2.ipynb").write_text('{"cells": [', encoding="utf-8")
    zip_folder(folder.parent / "broken-alone", folder / "broken_alone.zip")

    beside = folder / "beside"
    beside.mkdir()
    (beside / "old.ipynb").write_bytes(b'{"cells": [], "note": "\xff\xfe"}')
    write_notebook(beside / "<b>work.ipynb", ["import numpy as np", GOOD_CELL])

    write_notebook(made(folder / "empty") / "prob2.ipynb", [])
    return folder


@pytest.fixture(scope="module")
def depth_width_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("notebooks-bulk")
    folder = depth_width_class(base / "class")
    out = base / "out"
    # no --course: the class is recognised from its notebooks and files
    process = bulk("bulk", folder, "--out", out, "-q", FAST, "--jobs", "2")
    assert process.returncode == 0, process.stdout + process.stderr
    return folder, out, process


def test_a_class_of_notebooks_is_graded_and_a_broken_notebook_costs_only_its_row(
        depth_width_run):
    folder, out, process = depth_width_run
    assert "Grading every submission as depth-width (the version 2 of 2 readable" \
        in process.stderr, process.stderr
    table = rows(out)
    got = {sub: (table[sub]["q3b"], table[sub]["status"]) for sub in table}
    assert got == {"points possible": ("2", ""), "yue": ("2", "graded"),
                   "beside": ("2", "graded"),
                   "broken_alone": ("0", "unreadable"), "empty": ("0", "no-files")}
    record = {sub: json.loads((out / "results" / f"{sub}.json").read_text())
              for sub in ("yue", "beside", "broken_alone", "empty")}
    # the notebook graded is the nested one, not its checkpoint or resource fork
    assert record["yue"]["files"] == [NOTEBOOK]
    provenance = record["yue"]["result"]["handed_in"]["modules"]["networks.py"]["provenance"]
    assert provenance == f"networks.py <- {NOTEBOOK} (cells 5, 7, 8, 9, 10, 12)"
    assert record["broken_alone"]["problem"] == "nothing could be graded: prob2/" + NOT_JSON
    assert (out / "output" / "broken_alone.txt").read_text().strip() \
        == record["broken_alone"]["problem"]
    assert record["beside"]["problem"] == (
        "old.ipynb is ignored: it is not UTF-8 text (byte 0xff at position 23); open it "
        "in Jupyter or Colab and save it again")
    assert record["beside"]["result"]["handed_in"]["notes"][0].startswith(
        "old.ipynb is ignored: it is not UTF-8 text")
    assert record["empty"]["problem"] == ("prob2.ipynb holds no code (an empty notebook "
                                          "counts as nothing handed in)")


def test_the_feedback_page_says_where_the_graded_code_came_from(depth_width_run):
    _, out, _ = depth_width_run
    page = (out / "feedback" / "yue.html").read_text(encoding="utf-8")
    text = html.unescape(page)
    assert f"networks.py <- {NOTEBOOK} (cells 5, 7, 8, 9, 10, 12)" in text
    assert f"answers.py <- {NOTEBOOK} (cells 16" in text
    assert (f"{NOTEBOOK}: left out 8 calls, 1 loop, 1 magic, 1 shell escape, 2 Colab "
            "lines") in text
    beside = (out / "feedback" / "beside.html").read_text(encoding="utf-8")
    # a student's file name reaches the page as text, never as markup
    assert "&lt;b&gt;work.ipynb (cell 2)" in beside and "<b>work" not in beside
    assert "old.ipynb is ignored: it is not UTF-8 text" in html.unescape(beside)
    empty = (out / "feedback" / "empty.html").read_text(encoding="utf-8")
    assert "Notebooks and scripts read" not in empty
    index = html.unescape((out / "index.html").read_text(encoding="utf-8"))
    assert "nothing could be graded: prob2/" + NOT_JSON in index


def test_discover_flattens_nested_notebooks_and_refuses_two_at_one_depth(tmp_path):
    folder = tmp_path / "class"
    twice = folder / "twice"
    for part in ("a", "b"):
        write_notebook(made(twice / part) / "hw.ipynb", [GOOD_CELL + f"  # {part}"])
    deeper = folder / "deeper"
    write_notebook(made(deeper / "old") / "hw.ipynb", ["def conv_parameters():\n    return 0"])
    write_notebook(deeper / "hw.ipynb", [GOOD_CELL])
    (deeper / "notes").mkdir()
    (deeper / "notes" / "helpers.py").write_text("SCALE = 2\n")
    (deeper / "venv").mkdir()
    (deeper / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (deeper / "venv" / "lib.py").write_text("x = 1\n")
    files = folder / "kit" / "depth-width"
    files.mkdir(parents=True)
    for name in ("networks.py", "answers.py"):
        shutil.copy(DEPTH_WIDTH / name, files / name)
    for name in ("autograder.py", "depth_width_data.py", "backend.py"):
        (files / name).write_text("raise SystemExit('the kit, not the student')\n")
    (files / "grader" / "core").mkdir(parents=True)
    (files / "grader" / "__init__.py").write_text("")
    (files / "grader" / "core" / "table.py").write_text("def conv_parameters():\n    return 0\n")

    nothing = folder / "nothing"
    nothing.mkdir()
    (nothing / "report.pdf").write_bytes(b"%PDF-1.4")
    _, found = discover(folder, tmp_path / "work")
    subs = {sub.id: sub for sub in found}
    assert subs["twice"].status == "unreadable"
    assert subs["twice"].problem == ("two copies of hw.ipynb at the same depth "
                                     "('a/hw.ipynb' and 'b/hw.ipynb'): keep one and grade again")
    assert subs["deeper"].status == "ok" and subs["deeper"].problem == ""
    assert subs["deeper"].files == {"hw.ipynb": deeper / "hw.ipynb",
                                    "helpers.py": deeper / "notes" / "helpers.py"}
    # the kit's own files and its grader/ package (the whole release handed in) are
    # not the student's code
    assert sorted(subs["kit"].files) == ["answers.py", "networks.py"]
    assert subs["nothing"].status == "no-files"
    assert "and no notebook (.ipynb) or script (.py) either" in subs["nothing"].problem
    # Gradescope's search drops only the name found twice
    files, problems = find_student_files(twice.parent / "deeper")
    assert set(files) == {"hw.ipynb", "helpers.py"} and problems == []
    files, problems = find_student_files(twice)
    assert files == {} and problems == [
        "two copies of hw.ipynb at the same depth ('a/hw.ipynb' and 'b/hw.ipynb'): "
        "neither was graded; keep one and submit again"]


def project3_class(folder):
    """mlp-from-scratch as handed in: xyz123_Project3.zip holding a folder with
    Project3.py (both networks, and top-level training) and report.pdf."""
    inside = folder.parent / "xyz123" / "xyz123_Project3"
    inside.mkdir(parents=True)
    mlp, cnn = (MLP_FROM_SCRATCH / "mlp.py").read_text(), (MLP_FROM_SCRATCH / "cnn.py").read_text()
    (inside / "Project3.py").write_text(
        mlp + "\n" + cnn + "\nfrom mlp_data import load_digits\ndataset = load_digits()\n"
        "model = MLP()\ntrain_mlp(model, dataset)\n")
    (inside / "report.pdf").write_bytes(b"%PDF-1.4")
    folder.mkdir()
    zip_folder(folder.parent / "xyz123", folder / "xyz123_Project3.zip")
    abc = folder / "abc456"
    abc.mkdir()
    for name in ("mlp.py", "cnn.py"):
        shutil.copy(MLP_FROM_SCRATCH / name, abc / name)
    return folder


def test_a_zipped_project3_script_is_recognised_and_graded(tmp_path):
    folder = project3_class(tmp_path / "class")
    _, found = discover(folder, tmp_path / "work")
    assert {sub.id: sorted(sub.files) for sub in found} == {
        "abc456": ["cnn.py", "mlp.py"], "xyz123_Project3": ["Project3.py"]}
    assert recognise_each(found, tmp_path / "recognise") == {
        "abc456": "mlp-from-scratch", "xyz123_Project3": "mlp-from-scratch"}
    out = tmp_path / "out"
    process = bulk("bulk", folder, "--out", out, "-q", "q1", "--jobs", "2")
    assert process.returncode == 0, process.stdout + process.stderr
    table = rows(out)
    assert table["xyz123_Project3"]["status"] == table["abc456"]["status"] == "graded"
    assert table["xyz123_Project3"]["q1"] == table["abc456"]["q1"] \
        == table["points possible"]["q1"], table
    output = (out / "output" / "xyz123_Project3.txt").read_text()
    assert "Note: mlp.py <- Project3.py" in output
    page = html.unescape((out / "feedback" / "xyz123_Project3.html").read_text())
    assert "mlp.py <- Project3.py" in page and "cnn.py <- Project3.py" in page


def test_gradescope_grades_a_notebook_and_says_where_its_code_came_from(tmp_path,
                                                                       monkeypatch):
    monkeypatch.setenv(gradescope.SANDBOX_USER_VARIABLE, "")   # no user "student" here
    root = tmp_path / "autograder"
    depth_width_notebook(made(root / "submission" / "colab") / NOTEBOOK)
    (root / "submission" / "colab" / "broken.ipynb").write_text("not json")
    results = gradescope.grade(root, questions=FAST, figures=False)
    assert results["score"] == 2, results["output"]
    output = results["output"]
    assert f"Files graded: colab/broken.ipynb, colab/{NOTEBOOK}" in output, output
    assert f"Note: networks.py <- {NOTEBOOK} (cells 5, 7, 8, 9, 10, 12)" in output
    assert "Note: broken.ipynb is ignored: it is not valid JSON" in output
    assert "graded as assignment depth-width" in output
