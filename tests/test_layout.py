"""The layout of grader/ by role (grader/README.md draws the map): a module's folder
says which process runs it and which folders it may import, and inside
grader/instructor/ a module's package says which job it does and which other jobs'
packages it may import. Read from the source with ast, every import counted: those
inside functions too, and ``importlib.import_module`` / ``find_spec`` /
``__import__`` calls with a literal name."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

from grader import assignments
from grader.core.wiring import load_definition
from helpers import ROOT

GRADER = ROOT / "grader"
# folder -> the folders its modules may import (their own included).
ALLOWED = {
    "core": {"core"},
    "checks": {"core", "checks"},
    "sandbox": {"core", "checks", "sandbox"},
    "figures": {"core", "figures"},
    "assignments": {"core", "checks", "figures", "assignments"},
    "judge": {"core", "checks", "figures", "assignments", "judge"},
    "instructor": {"core", "figures", "assignments", "judge", "instructor"},
}
# grader/instructor/ by job: package -> the packages its modules may import (their own
# included). commands/ parses the command line and composes the jobs; nothing imports it.
JOBS = {
    "common": {"common"},
    "intake": {"common", "intake"},
    "reports": {"common", "reports"},
    "grading": {"common", "intake", "reports", "grading"},
    "similarity": {"common", "intake", "reports", "similarity"},
    "handback": {"common", "reports", "handback"},
    "release": {"common", "intake", "grading", "release"},
    "commands": {"common", "intake", "reports", "grading", "similarity", "handback",
                 "release", "commands"},
}
IMPORTLIB_CALLS = {"import_module", "find_spec", "__import__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_path(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=None)
def imported(path: Path) -> frozenset[str]:
    """Every module ``path`` imports, anywhere in it; ``from a import b`` counts as
    ``a.b`` where that is a module of ours, else as ``a``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and _called_name(node) in IMPORTLIB_CALLS:
            names.add(node.args[0].value)      # importlib.import_module("grader.x") and kin
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                whole = f"{node.module}.{alias.name}"
                names.add(whole if module_path(whole) else node.module)
    return frozenset(names)


def _called_name(call: ast.Call) -> str:
    function = call.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")


def folder_of(name: str) -> str | None:
    """The role folder of a grader module ('judge', 'core'...), '' for the package's
    entry points (grader, grader.__main__), None for a module that is not ours."""
    parts = name.split(".")
    if parts[0] != "grader":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else ""


def grader_modules() -> list[Path]:
    return sorted(path for path in GRADER.rglob("*.py") if "__pycache__" not in path.parts)


def job_of(name: str) -> str | None:
    """The job package of a grader.instructor module ('intake', 'grading'...); '' for
    grader.instructor itself; None for a module outside grader/instructor/."""
    parts = name.split(".")
    if parts[:2] != ["grader", "instructor"]:
        return None
    return parts[2] if len(parts) > 2 else ""


def instructor_modules() -> list[Path]:
    return [path for path in grader_modules() if "instructor" in path.relative_to(GRADER).parts[:1]]


def test_every_module_lives_in_a_role_folder():
    loose = [path.name for path in GRADER.glob("*.py") if path.name not in
             ("__init__.py", "__main__.py")]
    assert loose == [], f"move these into a role folder: {loose}"
    assert {path.name for path in GRADER.iterdir() if path.is_dir()
            and path.name != "__pycache__"} == set(ALLOWED)


@pytest.mark.parametrize("path", grader_modules(), ids=lambda path: module_name(path))
def test_a_module_imports_only_the_folders_its_role_allows(path):
    own = folder_of(module_name(path))
    if not own:
        return   # grader/__init__.py, grader/__main__.py: entry points
    wrong = sorted(name for name in imported(path)
                   if folder_of(name) and folder_of(name) not in ALLOWED[own])
    assert wrong == [], f"{module_name(path)} ({own}/) may not import {wrong}"


def test_every_instructor_module_lives_in_a_job_package():
    instructor = GRADER / "instructor"
    loose = [path.name for path in instructor.glob("*.py") if path.name != "__init__.py"]
    assert loose == [], f"move these into a job package of grader/instructor/: {loose}"
    packages = {path.name for path in instructor.iterdir()
                if path.is_dir() and path.name != "__pycache__"}
    assert packages == set(JOBS)
    for package in packages:
        init = instructor / package / "__init__.py"
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{init} says its job in its docstring"
        assert not [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))], \
            f"{init} imports nothing: a package's modules import what they need"


@pytest.mark.parametrize("path", instructor_modules(), ids=lambda path: module_name(path))
def test_an_instructor_module_imports_only_the_jobs_its_package_allows(path):
    own = job_of(module_name(path))
    if not own:
        return   # grader/instructor/__init__.py: a docstring
    wrong = sorted(name for name in imported(path)
                   if job_of(name) is not None and job_of(name) not in JOBS[own])
    assert wrong == [], f"{module_name(path)} ({own}/) may not import {wrong}"


def import_circles(modules: list[str]) -> list[list[str]]:
    """Every import circle among ``modules`` (each found once, as the path from its
    first module back to it), counting imports inside functions too."""
    edges = {name: sorted(other for other in imported(module_path(name)) if other in modules
                          and other != name) for name in modules}
    circles, done = [], set()

    def visit(name: str, path: list[str]) -> None:
        for other in edges[name]:
            if other in path:
                circle = path[path.index(other):]
                if frozenset(circle) not in done:
                    done.add(frozenset(circle))
                    circles.append(circle + [other])
            elif other not in finished:
                visit(other, path + [other])
        finished.add(name)

    finished: set[str] = set()
    for name in sorted(modules):
        if name not in finished:
            visit(name, [name])
    return circles


def test_no_import_circle_among_the_instructor_modules():
    modules = [module_name(path) for path in instructor_modules()]
    assert "grader.instructor.commands.main" in modules
    assert import_circles(modules) == []


def test_the_circle_check_and_the_importlib_reading_can_fail(tmp_path, monkeypatch):
    """A circle hidden in a function, and a module loaded through importlib by name,
    are both seen."""
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("import b\n")
    b.write_text("def later():\n    import a\n")
    monkeypatch.setattr(__import__(__name__), "module_path",
                        lambda name: {"a": a, "b": b}.get(name))
    assert import_circles(["a", "b"]) == [["a", "b", "a"]]
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("import importlib\n"
                      "PAGES = importlib.import_module('grader.instructor.similarity.pages')\n")
    assert "grader.instructor.similarity.pages" in imported(sneaky)
    assert job_of("grader.instructor.similarity.pages") not in JOBS["grading"]


@functools.lru_cache(maxsize=None)
def reachable(start: str) -> frozenset[str]:
    """Every module of ours that importing ``start`` can load, and every other
    module any of them imports (by top-level name)."""
    seen, outside, todo = set(), set(), [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_path(name)
        if path is None:
            continue
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        for other in imported(path) | set(parents):
            if module_path(other) is not None:
                todo.append(other)
            else:
                outside.add(other.split(".")[0])
    return frozenset(seen | outside)


def loaded_by_name() -> set[str]:
    """What the judge imports by name rather than with an import statement: every
    assignment's table, question modules and figure plans."""
    names = set()
    for path in (GRADER / "assignments").glob("*/table.py"):
        names.add(module_name(path))
    for assignment in assignments.registry().values():
        for question in assignment.questions:
            names.add(question.module)
            plan = load_definition(question.module).figure_plan
            if plan:
                names.add(plan.partition(":")[0])
    return names


def test_the_judge_never_loads_student_code_or_the_sandbox():
    student_modules = {Path(name).stem for assignment in assignments.registry().values()
                       for name in assignment.student_files}
    assert {"models", "losses", "train", "gpt_model"} <= student_modules
    by_name = loaded_by_name()
    assert "grader.assignments.course.questions.digits" in by_name
    for path in sorted((GRADER / "judge").glob("*.py")) + [ROOT / "autograder.py"]:
        name = "autograder" if path.name == "autograder.py" else module_name(path)
        loaded = set().union(reachable(name), *(reachable(module) for module in by_name))
        assert "grader.checks.classifier" in loaded
        assert not loaded & student_modules, (name, loaded & student_modules)
        assert not {m for m in loaded if m.startswith("grader.sandbox")}, name


def test_the_sandbox_never_loads_the_judge_or_instructor_code():
    for path in sorted((GRADER / "sandbox").glob("*.py")):
        loaded = reachable(module_name(path))
        assert not {m for m in loaded if m.startswith(("grader.judge", "grader.instructor"))}, \
            module_name(path)


def test_the_dataset_module_and_the_live_plots_do_not_import_each_other_at_load():
    backend = ast.parse((ROOT / "backend.py").read_text(encoding="utf-8"))
    top_level = {alias.name if isinstance(node, ast.Import) else node.module
                 for node in backend.body if isinstance(node, (ast.Import, ast.ImportFrom))
                 for alias in node.names}
    assert not any(name.startswith("grader.figures") for name in top_level)
    assert "backend" not in imported(GRADER / "figures" / "live.py")


def test_the_walk_finds_a_forbidden_import(tmp_path):
    """The checks above can fail: a sandbox module importing the judge is caught."""
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from grader.judge.report import Reporter\n")
    assert "grader.judge.report" in imported(sneaky)
    assert folder_of("grader.judge.report") not in ALLOWED["sandbox"]
