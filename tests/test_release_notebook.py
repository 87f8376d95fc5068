"""The release's notebook handout (grader/instructor/release/handout_notebook.py): every
release zip holds `<folder>.ipynb`, a valid notebook whose first cell says how to
work in Colab, with the README, one cell per graded function or class of the
skeletons, and cells that grade the notebook itself; filled in with the staff code it
earns full marks from the unzipped release, and it never ships staff code."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader import assignments
from grader.core.handed_in import read_submission, skeleton_names
from grader.instructor.release import student_zip
from grader.instructor.release.handout_notebook import SETUP_TAG, notebook_name
from helpers import ROOT

RELEASES = ("current", "models-only", "models-only-q6", "depth-width", "first-networks",
            "mlp-from-scratch")


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """name -> (the release zip, its unzipped top folder), built in this process."""
    built = {}
    folder = tmp_path_factory.mktemp("releases")

    def get(name: str):
        if name not in built:
            output = student_zip.build_release(folder / f"{name}.zip", course=name)
            with zipfile.ZipFile(output) as archive:
                archive.extractall(folder / name)
            built[name] = output, folder / name / assignments.get(name).release.folder
        return built[name]
    return get


def cell_definition(cell) -> str | None:
    """The name a code cell defines when it holds one top-level def/class only."""
    tree = ast.parse(cell.source)
    if len(tree.body) == 1 and isinstance(tree.body[0], (ast.FunctionDef, ast.ClassDef)):
        return tree.body[0].name
    return None


def student_modules(assignment) -> set[str]:
    return {Path(name).stem for name in assignment.student_files}


def filled(notebook, assignment):
    """The notebook with the staff solution's code in it: each graded cell holds the
    reference's definition of the same name; each file's first code cell gets the
    reference's imports (less imports of the other student files), its helper
    functions and constants a cell after it."""
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    own = student_modules(assignment)
    by_file = {}
    for student_file in assignment.files:
        text = (ROOT / assignment.reference / student_file.name).read_text(encoding="utf-8")
        skeleton = set(skeleton_names((ROOT / student_file.skeleton).read_text(encoding="utf-8")))
        definitions, imports, helpers = {}, [], []
        for node in ast.parse(text).body:
            segment = ast.get_source_segment(text, node)
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                segment = "\n".join(text.splitlines()[first - 1:node.end_lineno])
                if node.name in skeleton:
                    definitions[node.name] = segment
                else:
                    helpers.append(segment)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module] if isinstance(node, ast.ImportFrom) else \
                    [alias.name for alias in node.names]
                if not own & set(names):
                    imports.append(segment)
        by_file[student_file.name] = definitions, imports, helpers
    cells, current, first_code = [], None, False
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## `"):
            current, first_code = cell.source.split("`")[1], True
        elif cell.cell_type == "code" and current and SETUP_TAG not in cell.metadata.get("tags", ()):
            definitions, imports, helpers = by_file[current]
            name = cell_definition(cell)
            if name in definitions:
                cell.source = definitions[name]
            elif first_code:
                cell.source += "\n" + "\n".join(imports)
                cells.append(cell)
                cells.append(nbformat.v4.new_code_cell("\n\n".join(helpers) or "pass"))
                first_code = False
                continue
            first_code = False
        cells.append(cell)
    notebook.cells = cells
    return notebook


def expected_names(assignment) -> dict[str, list[str]]:
    return {f.name: skeleton_names((ROOT / f.skeleton).read_text(encoding="utf-8"))
            for f in assignment.files}


def read(unzipped: Path, assignment):
    return nbformat.read(str(unzipped / notebook_name(assignment)), as_version=4)


@pytest.mark.parametrize("name", RELEASES)
def test_each_release_ships_a_valid_notebook_with_a_cell_per_graded_definition(
        name, released):
    archive, unzipped = released(name)
    assignment = assignments.get(name)
    top = assignment.release.folder
    with zipfile.ZipFile(archive) as opened:
        assert f"{top}/{top}.ipynb" in opened.namelist()
    notebook = read(unzipped, assignment)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    first, setup = notebook.cells[:2]
    assert first.cell_type == "markdown" and "Working in Colab?" in first.source
    assert setup.cell_type == "code" and SETUP_TAG in setup.metadata.tags
    assert "'google.colab' in sys.modules" in setup.source.replace('"', "'")
    assert f'RELEASE = "{top}"' in setup.source and f'COURSE = "{name}"' in setup.source
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "## Time limits" in markdown and "Working in this notebook" in markdown
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code[-1].source == 'if __name__ == "__main__":\n    grade("")'
    defined = [cell_definition(c) for c in code]
    for file_name, names in expected_names(assignment).items():
        assert f"## `{file_name}`" in markdown
        for looked_up in names:
            assert defined.count(looked_up) == 1, (file_name, looked_up)
    readme = (unzipped / "README.md").read_text(encoding="utf-8")
    assert f"## Working in a notebook\n\n`{top}.ipynb` holds this README" in readme
    assert "## Working in a notebook" not in markdown   # the notebook explains itself
    # its imports of other student files would bind the skeleton's stubs when run
    for cell in code:
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom):
                assert node.module not in student_modules(assignment), cell.source


@pytest.mark.parametrize("name", RELEASES)
def test_the_filled_notebook_defines_every_name_and_the_skeleton_cells_run(
        name, released, tmp_path, monkeypatch):
    _, unzipped = released(name)
    assignment = assignments.get(name)
    notebook = read(unzipped, assignment)
    # The definition cells as shipped run (the setup and grading cells are left out).
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "handout"}
    for cell in notebook.cells:
        if cell.cell_type == "code" and SETUP_TAG not in cell.metadata.get("tags", ()):
            exec(compile(cell.source, f"cell {cell.id}", "exec"), namespace)
    for names in expected_names(assignment).values():
        assert set(names) <= set(namespace)
    assert list(tmp_path.iterdir()) == []
    # Filled in, alone in a folder, every expected module is made from it.
    folder = tmp_path / "handed_in"
    folder.mkdir()
    nbformat.write(filled(notebook, assignment), str(folder / notebook_name(assignment)))
    handed_in = read_submission(folder, expected_names(assignment))
    assert handed_in.warnings() == [] and not handed_in.unreadable
    for file_name, names in expected_names(assignment).items():
        module = handed_in.modules[file_name]
        assert module.missing == [], (file_name, module.missing)
        assert {origin.path for origin in module.chosen.values()} == {notebook_name(assignment)}
        for looked_up in names:
            assert re.search(rf"^(def|class) {looked_up}\b", module.text, re.MULTILINE)
    # Beside the release's skeleton files (a student grading the release folder), the
    # notebook still supplies every name: an unchanged skeleton definition yields.
    beside = tmp_path / "beside"
    beside.mkdir()
    for student_file in assignment.files:
        shutil.copyfile(unzipped / student_file.name, beside / student_file.name)
    shutil.copyfile(folder / notebook_name(assignment), beside / notebook_name(assignment))
    skeletons = {f.name: (unzipped / f.name).read_text(encoding="utf-8") for f in assignment.files}
    handed_in = read_submission(beside, expected_names(assignment), skeletons=skeletons)
    for file_name, names in expected_names(assignment).items():
        chosen = handed_in.modules[file_name].chosen
        assert {chosen[n].path for n in names} == {notebook_name(assignment)}, file_name


def test_a_filled_release_notebook_earns_full_marks_through_its_own_grading_cell(released):
    """As a student would: the notebook filled in and saved in the unzipped release,
    its first code cell run, then a grading cell (q1 and q3: one of each file)."""
    _, unzipped = released("first-networks")
    assignment = assignments.get("first-networks")
    notebook = filled(read(unzipped, assignment), assignment)
    nbformat.write(notebook, str(unzipped / notebook_name(assignment)))
    before = sorted(path.name for path in unzipped.iterdir())
    setup = notebook.cells[1].source
    script = f"{setup}\n\ngrade('q1,q3')\n"   # __name__ is "__main__" in python -c
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for variable in ("DISPLAY", "WAYLAND_DISPLAY", "GRADER_COURSE", "JPY_SESSION_NAME"):
        env.pop(variable, None)
    process = subprocess.run([sys.executable, "-c", script], cwd=unzipped, env=env,
                             capture_output=True, text=True, timeout=300)
    out = process.stdout + process.stderr
    assert process.returncode == 0, out
    assert "Grading first-networks.ipynb as saved at" in out
    assert "Note: quadrants.py <- first-networks.ipynb (cells" in out
    assert "Note: mnist_linear.py <- first-networks.ipynb (cells" in out
    assert "### Question q1: 2/2 ###" in out and "### Question q3: 2/2 ###" in out, out
    assert "Total: 4/4" in out and "Traceback" not in out
    assert sorted(path.name for path in unzipped.iterdir()) == before


def test_the_leak_check_reads_notebook_cells(tmp_path):
    """A staff definition pasted into a notebook cell of the release is caught."""
    forbidden = student_zip.reference_definitions()
    text = (ROOT / "tests" / "reference_first_networks" / "mnist_linear.py").read_text()
    staff = next(ast.get_source_segment(text, node) for node in ast.parse(text).body
                 if isinstance(node, ast.FunctionDef) and node.name == "train_mnist")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# x"),
                                               nbformat.v4.new_code_cell("import torch"),
                                               nbformat.v4.new_code_cell(staff)])
    archive = tmp_path / "release.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("kit/kit.ipynb", nbformat.writes(notebook))
    assert student_zip.find_leaks(archive, forbidden) == [
        "kit/kit.ipynb (cell 2): train_mnist is a copy of "
        "tests/reference_first_networks/mnist_linear.py: train_mnist"]
