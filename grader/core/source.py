"""Facts about student source that both processes need, found without running it:
which files and frames are the student's, whether a function is still the
skeleton's stub, and the failures a step reports.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import textwrap
from pathlib import Path

# Files in the project folder that belong to the course, not to the student.
PROJECT_FILES = ("backend.py", "autograder.py", "chargpt.py")


class StopStudentCode(BaseException):
    """Raised by the grader inside student code to end it early on purpose (e.g. a
    training loop that would never end on a check's tiny dataset). ``ctx.call`` lets
    it through, and the step that raised it catches it. A BaseException, so that
    student code catching Exception does not swallow it."""


class StepFailure(Exception):
    """A problem found in a submission, with a ready-made message for the student."""

    def __init__(self, kind: str, message: str, traceback_text: str = ""):
        super().__init__(message)
        self.kind, self.message, self.traceback_text = kind, message, traceback_text

    def as_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "traceback": self.traceback_text}


class StudentFiles:
    """Tells student source files from the course's own (they may share a folder).

    ``shown_as`` is how messages name the student's folder: the folder the user
    passed, when the sandbox works in a copy of it (``--sandbox-user``, bubblewrap),
    or '' to name the files alone (bulk's submissions); None: ``student_dir`` itself.
    ``made_dir``: the job's folder of modules made from the student's notebooks and
    scripts (core/handed_in.py); its files are the student's, named by their names."""

    def __init__(self, project_root: Path, student_dir: Path, shown_as: str | None = None,
                 made_dir: Path | None = None):
        self.project_root = project_root.resolve()
        self.student_dir = student_dir.resolve()
        self.made_dir = made_dir.resolve() if made_dir is not None else None
        self.shown_as = str(self.student_dir) if shown_as is None else shown_as
        self._ours = {self.project_root / name for name in PROJECT_FILES}
        self._grader = self.project_root / "grader"

    def contains(self, filename: str) -> bool:
        if not filename or filename.startswith("<"):   # e.g. <frozen importlib._bootstrap>
            return False
        try:
            path = Path(filename).resolve()
        except (OSError, ValueError):
            return False
        if self.made_dir is not None and path.is_relative_to(self.made_dir):
            return True
        return (path.is_relative_to(self.student_dir) and path not in self._ours
                and not path.is_relative_to(self._grader))

    def short(self, filename: str) -> str:
        if not self.contains(filename):
            return filename
        path = Path(filename).resolve()
        if self.made_dir is not None and path.is_relative_to(self.made_dir):
            return str(path.relative_to(self.made_dir))
        return str(path.relative_to(self.student_dir))

    def shown(self, filename: str) -> str:
        """A path in the student's folder as the student knows it (``shown_as``
        joined with its name there); any other path as it is."""
        try:
            relative = Path(filename).resolve().relative_to(self.student_dir)
        except (OSError, ValueError):
            return filename
        if not self.shown_as:
            return str(relative) if relative.parts else "."
        return str(Path(self.shown_as, relative))

    def shown_text(self, text: str) -> str:
        """``text`` (an exception's message, a warning) with the student's folder
        named as ``shown_as``: a copy of it the sandbox works in never shows."""
        folder = str(self.student_dir)
        if self.shown_as == folder or folder not in text:
            return text
        inside = self.shown_as + os.sep if self.shown_as else ""
        text = text.replace(folder + os.sep, inside)
        # the folder itself, not a longer name that starts with it ("student2", "student.bak")
        return re.sub(re.escape(folder) + r"(?![\w-]|\.\w)", lambda _: self.shown_as or ".",
                      text)


def is_stub(obj) -> bool:
    """True when a function (or a class's forward) is still the shipped skeleton: it
    ends with the '*** YOUR CODE HERE ***' marker (or has only strings and pass in
    its body) and contains no return statement."""
    if inspect.isclass(obj):
        obj = obj.__dict__.get("forward")
    if not inspect.isfunction(obj):
        return False
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    except (OSError, TypeError, SyntaxError):
        return False
    return is_stub_node(tree.body[0])


def is_stub_node(function) -> bool:
    """``is_stub`` for a parsed function definition."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    if any(isinstance(node, ast.Return) for node in ast.walk(function)):
        return False

    def is_text(statement) -> bool:
        return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str))

    def ends_with_marker(body) -> bool:
        last = body[-1]
        if isinstance(last, (ast.With, ast.For, ast.While, ast.If)):  # e.g. `with no_grad():`
            return ends_with_marker(last.body)
        return is_text(last) and "YOUR CODE HERE" in last.value.value

    only_text = all(is_text(s) or isinstance(s, ast.Pass) for s in function.body)
    return only_text or ends_with_marker(function.body)
