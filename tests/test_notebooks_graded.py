"""Notebooks and scripts graded by `autograder.py --student-dir` (core/handed_in.py
wired into the judge): a notebook or a Project3.py holding the staff code earns what
the files earn, none of its top-level work runs, and every message points into the
notebook's cells, never at the module the judge made from them."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from helpers import ROOT, points_by_test, run_autograder
from test_handed_in import DEPTH_WIDTH, MLP_FROM_SCRATCH, depth_width_notebook, \
    write_notebook

WRITTEN = "q1d,q3b,q3c,q3d"
SKELETON = ROOT / "grader" / "assignments" / "depth_width" / "skeleton"


def grade_side_by_side(tmp_path, *runs):
    """Each run ``(student folder, extra arguments)`` graded at the same time (two
    cores), with JSON: [(process, results), ...]."""
    def grade(index_run):
        index, (folder, extra) = index_run
        path = tmp_path / f"results{index}.json"
        return run_autograder("--student-dir", str(folder), "--no-graphics",
                              "--json", str(path), *extra)
    with ThreadPoolExecutor(len(runs)) as pool:
        done = list(pool.map(grade, enumerate(runs)))
    for process, results in done:
        assert process.returncode == 0 and results, process.stdout + process.stderr
    return done


def no_generated_path(process, results):
    text = process.stdout + process.stderr + json.dumps(results)
    for generated in ("/made/", "made by the autograder"):
        assert generated not in text, generated


def test_a_depth_width_notebook_earns_what_the_files_earn_and_runs_no_top_level_work(
        tmp_path):
    notebook_dir = tmp_path / "notebook"
    notebook_dir.mkdir()
    marker = tmp_path / "top_level_ran.txt"
    notebook = depth_width_notebook(notebook_dir / "yue.yisong_set4_prob2.ipynb")
    # the marker cell writes where the test looks (not isolated: it could run)
    text = notebook.read_text().replace('top_level_ran.txt', str(marker).replace("\\", "/"))
    notebook.write_text(text)
    assert str(marker) in text
    args = ("--course", "depth-width", "-q", WRITTEN, "--isolation", "none")
    (files_run, files), (process, results) = grade_side_by_side(
        tmp_path, (DEPTH_WIDTH, args), (notebook_dir, args))
    assert points_by_test(results) == points_by_test(files), process.stdout
    assert results["total"] == files["total"] == files["max"] > 0
    assert not marker.exists()
    lines = process.stdout.splitlines()
    assert lines[1] == ("Note: networks.py <- yue.yisong_set4_prob2.ipynb "
                        "(cells 5, 7, 8, 9, 10, 12)"), process.stdout
    assert lines[2].startswith("Note: answers.py <- yue.yisong_set4_prob2.ipynb (cells 16")
    assert lines[3] == ("Note: yue.yisong_set4_prob2.ipynb: left out 8 calls, 1 loop, "
                        "1 magic, 1 shell escape, 2 Colab lines, 1 assignment nothing "
                        "kept reads (not run by the autograder; --verbose lists each)"), \
        process.stdout
    handed_in = results["handed_in"]
    assert handed_in["modules"]["networks.py"]["provenance"] == lines[1][len("Note: "):]
    assert handed_in["sources"][0]["left_out_counts"]["colab"] == 2
    assert "handed_in" not in files and "<-" not in files_run.stdout
    assert list(notebook_dir.iterdir()) == [notebook]     # nothing written beside it
    no_generated_path(process, results)


def test_a_project3_script_earns_what_mlp_and_cnn_earn(tmp_path):
    script_dir = tmp_path / "project3"
    script_dir.mkdir()
    marker = tmp_path / "trained.txt"
    mlp, cnn = (MLP_FROM_SCRATCH / "mlp.py").read_text(), (MLP_FROM_SCRATCH / "cnn.py").read_text()
    (script_dir / "Project3.py").write_text(
        mlp + "\n" + cnn + "\nfrom mlp_data import load_digits\ndataset = load_digits()\n"
        "model = MLP()\ntrain_mlp(model, dataset)\nnetwork = CNN()\n"
        f"open({str(marker)!r}, 'w').write('ran')\n")
    # no --course: the script alone is recognised as mlp-from-scratch
    (files_run, files), (process, results) = grade_side_by_side(
        tmp_path, (MLP_FROM_SCRATCH, ("-q", "q1", "--isolation", "none")),
        (script_dir, ("-q", "q1", "--isolation", "none")))
    assert results["course"] == files["course"] == "mlp-from-scratch", process.stdout
    assert points_by_test(results) == points_by_test(files), process.stdout
    assert results["total"] == files["max"]
    assert not marker.exists()
    lines = process.stdout.splitlines()
    assert "because Project3.py defines CNN, MLP" in lines[1], process.stdout
    assert lines[2:4] == ["Note: mlp.py <- Project3.py", "Note: cnn.py <- Project3.py"]
    no_generated_path(process, results)


def test_messages_name_the_notebook_cell_and_line(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    write_notebook(folder / "hw.ipynb", [
        "import numpy as np",
        "def helper():\n    return 0.5",
        "bias = helper()",
        "def or_network():\n    return [(np.array([[1.0, 1.0]]), np.array([bias]))]",
        "def conv_parameters():\n    x = 1\n    raise ValueError('broken on purpose')",
        "def conv_output_shape(:\n    pass"], counts=True)
    (process, results), = grade_side_by_side(
        tmp_path, (folder, ("--course", "depth-width", "-q", "q1d,q3b,q3c")))
    out = process.stdout
    assert results["total"] == 0
    assert 'File "hw.ipynb", cell 5 (In [11]), line 3, in conv_parameters' in out, out
    assert ("*** Warning: hw.ipynb, cell 6 (In [12]), line 1: syntax error (invalid "
            "syntax); this cell is skipped (it would have defined conv_output_shape)") in out
    assert ("conv_output_shape is not defined: the cell that would define it (hw.ipynb, "
            "cell 6 (In [12]), line 1) has a syntax error") in out
    said = ("or_network (in hw.ipynb, cell 4 (In [10]), line 1) uses the global name "
            "'bias', which only top-level work defines (hw.ipynb, cell 3 (In [9]), line 1)")
    q1d = "\n".join(t["message"] for t in results["tests"] if t["question"] == "q1d")
    assert said in q1d and 'File "hw.ipynb", cell 4 (In [10]), line 2' in q1d, q1d
    assert results["handed_in"]["warnings"][1].startswith(said)
    assert "autograder itself failed" not in out
    no_generated_path(process, results)


def test_a_skeleton_beside_a_notebook_and_bad_notebooks(tmp_path):
    """The release ships the skeletons: a stub there yields to the notebook's
    definition. An unreadable notebook is named and ignored; an empty one is nothing."""
    folder = tmp_path / "student"
    folder.mkdir()
    for name in ("networks.py", "answers.py"):
        (folder / name).write_text((SKELETON / name).read_text())
    write_notebook(folder / "work.ipynb", [
        "def conv_parameters():\n    return 8 * (5 * 5 * 3 + 1)"])
    (folder / "broken.ipynb").write_text('{"cells": [')
    write_notebook(folder / "empty.ipynb", [])
    (process, results), = grade_side_by_side(tmp_path, (folder, ("-q", "q3b,q3c")))
    out = process.stdout
    assert results["course"] == "depth-width"
    assert results["questions"]["q3b"]["points"] == 2, out
    assert results["questions"]["q3c"]["points"] == 0
    assert ("Note: broken.ipynb is ignored: it is not valid JSON (line 1, column 12: "
            "Expecting value)") in out, out
    assert ("Note: empty.ipynb is ignored: it holds no code (an empty notebook counts "
            "as nothing handed in)") in out
    assert "Note: answers.py <- answers.py, work.ipynb (cell 1)" in out
    assert (folder / "answers.py").read_text() == (SKELETON / "answers.py").read_text()
    no_generated_path(process, results)
