"""Build the zip that students download: ``python -m grader release student.zip``.

What goes in is the assignment's data (its ``release``, grader/core/table.py): its
skeletons under the names students save them as, the project files it ships (for the
course: ``autograder.py``, ``backend.py``, ``chargpt.py``, ``pyproject.toml``), its
data files, the whole ``grader/`` folder (the autograder) and a README written for
students from its table (the repository's README has staff sections). It never holds
``tests/`` (the staff reference solutions) or ``benchmarks/`` (they import them).

Two builds of the same files are byte-identical: entries are sorted and carry a
fixed timestamp and mode. After building, every function and class of the release
is compared with every assignment's staff solutions; a copied body fails the build
and the partial zip is deleted.
"""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

from grader import assignments
from grader.core.table import Assignment
from grader.instructor.zips import FILE_MODE, check_output, write_zip

PROJECT_ROOT = Path(__file__).resolve().parents[2]
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
    wanted += sorted(path for path in grader_dir.rglob("*.py") if "__pycache__" not in path.parts)
    wanted.append(grader_dir / "README.md")
    # Shipped under another name: the skeletons as the student files, support modules
    # at the top.
    renamed = {file.name: root / file.skeleton for file in assignment.files}
    renamed.update({name: root / path for name, path in assignment.release.top_level.items()})
    missing = [str(path.relative_to(root)) for path in [*wanted, *renamed.values()]
               if not path.is_file()]
    if missing:
        raise ReleaseError(f"cannot build the release: missing {', '.join(missing)} in {root}")
    return {**{path.relative_to(root).as_posix(): path for path in wanted}, **renamed}


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
    """Return one line per release def/class whose text equals a staff solution's."""
    leaks = []
    with zipfile.ZipFile(archive_path) as archive:
        for name in archive.namelist():
            if not name.endswith(".py"):
                continue
            source = archive.read(name).decode("utf-8")
            for qualified, node in _definitions(source, name):
                text = ast.unparse(node)
                if text in forbidden:
                    ref_file, ref_name = forbidden[text]
                    leaks.append(f"{name}: {qualified} is a copy of {ref_file}: {ref_name}")
    return leaks


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
    contents[f"{top}/README.md"] = (assignment.release.readme(assignment).encode("utf-8"),
                                    FILE_MODE)
    forbidden = reference_definitions(root)

    def no_leaks(archive: Path) -> None:
        leaks = find_leaks(archive, forbidden)
        if leaks:
            raise ReleaseError("the release contains staff reference solutions; nothing was "
                               "written. Replace these with the skeleton's stubs:\n  "
                               + "\n  ".join(leaks))
    return write_zip(output, contents, check=no_leaks)
