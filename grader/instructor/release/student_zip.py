"""Build the zip that students download: ``python -m grader release student.zip``.

What goes in is the assignment's data (its ``release``, grader/core/table.py): its
skeletons under the names students save them as, the project files it ships (for the
course: ``autograder.py``, ``backend.py``, ``chargpt.py``, ``pyproject.toml``), its
data files, the ``grader/`` folder (the autograder) with its own assignment's package
of ``grader/assignments/`` and no other's, and a README written for students from its
table (the repository's README has staff sections), and the handout as a notebook,
``<folder>.ipynb`` (grader/instructor/release/handout_notebook.py). It never holds ``tests/`` (the
staff reference solutions) or ``benchmarks/`` (they import them).

A release that holds the scored labels back (``Release.holds_back``) ships each
graded data file with them blanked, as the sandbox under --sandbox-user sees it; the
student's own ``python autograder.py`` accepts that copy (grader/judge/data.py). With
``Release.description`` it writes its own ``pyproject.toml`` and ``data/README.md``
(the project's describe the course).

Two builds of the same files are byte-identical: entries are sorted and carry a
fixed timestamp and mode. After building, every function and class of the release
is compared with every assignment's staff solutions; a copied body fails the build
and the partial zip is deleted.
"""

from __future__ import annotations

import ast
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from grader import assignments
from grader.core.handout_text import notebook_section
from grader.core.table import Assignment, DataFile
from grader.instructor.common.zips import FILE_MODE, check_output, write_zip
from grader.instructor.release.handout_notebook import handout_notebook, notebook_name
from grader.judge.data import DataProblem, JudgeData, arrays_digest
from grader.judge.isolation import public_data

PROJECT_ROOT = Path(__file__).resolve().parents[3]
# A reference def/class with more statements than this must not appear in the release.
MAX_SHARED_STATEMENTS = 3


class ReleaseError(Exception):
    """A release that must not be written; the message says why and what to do."""


def release_files(root: Path = PROJECT_ROOT,
                  assignment: Assignment | None = None) -> dict[str, Path]:
    """Map each path inside the release (relative, '/'-separated) to its source file,
    for ``assignment`` (default: the default one).

    Raises ReleaseError when a file the release needs is missing."""
    assignment = assignment or assignments.get()
    wanted = [root / name for name in assignment.release.files]
    wanted += [root / "data" / name for name in assignment.release.data]
    grader_dir = root / "grader"
    own = assignments.package(assignment.name)

    def shipped(path: Path) -> bool:   # of grader/assignments/, only its own package
        inside = path.relative_to(grader_dir).parts
        return "__pycache__" not in inside and (
            inside[0] != "assignments" or len(inside) == 2 or inside[1] == own)
    wanted += sorted(path for path in grader_dir.rglob("*.py") if shipped(path))
    # Shipped under another name: the skeletons as the student files, support modules
    # at the top.
    renamed = {file.name: root / file.skeleton for file in assignment.files}
    renamed.update({name: root / path for name, path in assignment.release.top_level.items()})
    missing = [str(path.relative_to(root)) for path in [*wanted, *renamed.values()]
               if not path.is_file()]
    if missing:
        raise ReleaseError(f"cannot build the release: missing {', '.join(missing)} in {root}")
    return {**{path.relative_to(root).as_posix(): path for path in wanted}, **renamed}


def own_descriptions(assignment: Assignment) -> dict[str, str]:
    """pyproject.toml and data/README.md of a release that describes itself
    (``Release.description``), by their path in the release; {} for one that ships
    the project's."""
    release = assignment.release
    if not release.description:
        return {}
    texts = {"pyproject.toml": f"""\
[project]
name = "{release.folder}"
version = "0.1.0"
description = "{release.description}"
readme = "README.md"
requires-python = ">=3.10"
dependencies = [
    "torch>=2.0,<3",
    "numpy>=1.24,<3",
    "matplotlib>=3.5",
    "nbformat>=5",
]

# Run from this folder (`python autograder.py`); installing copies no module.
[tool.setuptools]
py-modules = []
packages = []
"""}
    if release.data_readme is not None:
        texts["data/README.md"] = release.data_readme(assignment)
    return texts


def blanked(root: Path, file: DataFile) -> bytes:
    """The bytes of data/``file`` with its withheld labels blanked (the same on every
    build: fixed entry times), checked against the table's ``public_digest``.

    Raises ReleaseError when the project's file is not the graded one, or when the
    copy's digest is not the table's (the student's autograder would refuse it)."""
    try:
        data = JudgeData(root / "data", (file,))
    except DataProblem as problem:
        raise ReleaseError(f"cannot build the release: {problem}") from None
    arrays = public_data(file, data.as_read(file.name))
    if arrays_digest(arrays) != file.public_digest:
        raise ReleaseError(f"cannot build the release: data/{file.name} with its scored labels "
                           f"blanked has the arrays digest {arrays_digest(arrays)}, not the "
                           f"table's public_digest {file.public_digest or '(none)'}; the "
                           "released autograder would refuse it. Correct the table.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, value in arrays.items():
            entry = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = FILE_MODE << 16
            array = io.BytesIO()
            np.lib.format.write_array(array, np.ascontiguousarray(value), allow_pickle=False)
            archive.writestr(entry, array.getvalue())
    return buffer.getvalue()


def _definitions(source: str, filename: str) -> list[tuple[str, ast.AST]]:
    """Every def/class in ``source``, nested ones included, as (qualified name, node)."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.append((prefix + child.name, child))
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source, filename=filename), "")
    return found


def reference_definitions(root: Path = PROJECT_ROOT) -> dict[str, tuple[str, str]]:
    """Unparsed text -> (file, qualified name) of every def/class with more than
    MAX_SHARED_STATEMENTS statements in any assignment's staff solutions, less the
    code their skeletons hand out (``Release.provided``)."""
    provided = {name for assignment in assignments.registry().values()
                for _, name in assignment.release.provided}
    forbidden = {}
    paths = [path for folder in assignments.staff_solutions()
             for path in sorted((root / folder).glob("*.py"))]
    for path in paths:
        for name, node in _definitions(path.read_text(encoding="utf-8"), str(path)):
            if len(node.body) > MAX_SHARED_STATEMENTS and name not in provided:
                forbidden[ast.unparse(node)] = (path.relative_to(root).as_posix(), name)
    return forbidden


def find_leaks(archive_path: Path, forbidden: dict[str, tuple[str, str]]) -> list[str]:
    """Return one line per release def/class whose text equals a staff solution's, in
    its ``.py`` files and its notebooks' code cells."""
    leaks = []
    with zipfile.ZipFile(archive_path) as archive:
        for name in archive.namelist():
            if name.endswith(".py"):
                sources = [(name, archive.read(name).decode("utf-8"))]
            elif name.endswith(".ipynb"):
                sources = notebook_code(name, archive.read(name))
            else:
                continue
            for shown, source in sources:
                for qualified, node in _definitions(source, shown):
                    text = ast.unparse(node)
                    if text in forbidden:
                        ref_file, ref_name = forbidden[text]
                        leaks.append(f"{shown}: {qualified} is a copy of {ref_file}: "
                                     f"{ref_name}")
    return leaks


def notebook_code(name: str, content: bytes) -> list[tuple[str, str]]:
    """('NAME (cell N)', code) for each code cell of a notebook in the release, counted
    as Jupyter does (code cells, from 1)."""
    cells = [cell for cell in json.loads(content.decode("utf-8"))["cells"]
             if cell.get("cell_type") == "code"]
    return [(f"{name} (cell {number})", "".join(cell["source"]) if
             isinstance(cell["source"], list) else cell["source"])
            for number, cell in enumerate(cells, 1)]


def grader_readme(assignment: Assignment) -> str:
    """The release's grader/README.md: the repository's describes every assignment and
    how to add one (staff matters); a student's kit says what the folder is for."""
    own = assignments.package(assignment.name)
    return f"""\
# The autograder

Students can ignore this folder: edit the files named in ../README.md and run
`python autograder.py` in the folder above (`python autograder.py --help` lists its
options).

It holds the code that grades {assignment.name}: `judge/` is the process you start,
`sandbox/` the separate process that imports and runs your files under time and
memory limits, `checks/` the checks the questions share, `figures/` the pictures
(`--save-plots`), and `assignments/{own}/` this assignment's questions, points and
thresholds (`table.py`).
"""


def build_release(output: Path, force: bool = False, root: Path = PROJECT_ROOT,
                  course: str | None = None) -> Path:
    """Build the student zip of assignment ``course`` (default: the default one) at
    ``output`` (atomically) and return its path.

    Raises ReleaseError when ``output`` exists and ``force`` is false, when its folder
    is missing, or when the release would contain staff-solution code."""
    assignment = assignments.get(course)
    output = check_output(output, force, ReleaseError)
    top = assignment.release.folder
    contents = {f"{top}/{name}": (path.read_bytes(), FILE_MODE)
                for name, path in release_files(root, assignment).items()}
    readme = assignment.release.readme(assignment)
    contents[f"{top}/README.md"] = ((readme + notebook_section(assignment)).encode("utf-8"),
                                    FILE_MODE)
    try:
        notebook = handout_notebook(assignment, root, readme)
    except RuntimeError as problem:
        raise ReleaseError(f"cannot build the release: {problem}") from None
    contents[f"{top}/{notebook_name(assignment)}"] = (notebook.encode("utf-8"), FILE_MODE)
    contents[f"{top}/grader/README.md"] = (grader_readme(assignment).encode("utf-8"), FILE_MODE)
    contents.update({f"{top}/{name}": (text.encode("utf-8"), FILE_MODE)
                     for name, text in own_descriptions(assignment).items()})
    if assignment.release.holds_back:
        contents.update({f"{top}/data/{file.name}": (blanked(root, file), FILE_MODE)
                         for file in assignment.data if file.name in assignment.release.data})
    forbidden = reference_definitions(root)

    def no_leaks(archive: Path) -> None:
        leaks = find_leaks(archive, forbidden)
        if leaks:
            raise ReleaseError("the release contains staff reference solutions; nothing was "
                               "written. Replace these with the skeleton's stubs:\n  "
                               + "\n  ".join(leaks))
    return write_zip(output, contents, check=no_leaks)
