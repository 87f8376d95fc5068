"""The layout of grader/ by role (grader/README.md draws the map): a module's folder
says which process runs it and which folders it may import. Read from the source
with ast, every import counted, those inside functions too."""

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
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                whole = f"{node.module}.{alias.name}"
                names.add(whole if module_path(whole) else node.module)
    return frozenset(names)


def folder_of(name: str) -> str | None:
    """The role folder of a grader module ('judge', 'core'...), '' for the package's
    entry points (grader, grader.__main__), None for a module that is not ours."""
    parts = name.split(".")
    if parts[0] != "grader":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else ""


def grader_modules() -> list[Path]:
    return sorted(path for path in GRADER.rglob("*.py") if "__pycache__" not in path.parts)


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
