"""Checks a submission's imports against its assignment's rule (read with ast; the
judge never imports student code). A file without an ImportRule in the table may
import only what its skeleton does (the course's rule); a rule allows whole modules,
or anything installed on this machine (grader/core/table.py: ImportRule)."""

from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping

from grader.core.parsing import parse_python
from grader.core.table import Assignment, ImportRule, in_words

SKELETON_ONLY_INTRO = ("your files import what the skeletons do not (allowed; with "
                       "--enforce-imports the questions using those files earn nothing):")
RULE_INTRO = ("your files import what the assignment's import rule (README.md, \"Imports\") "
              "does not allow (a warning; with --enforce-imports the questions using those "
              "files earn nothing):")
SKELETON_ONLY_ENFORCED = ("not graded: this course requires the skeleton's imports unchanged "
                          "(--enforce-imports); remove the imports named at the start")
RULE_ENFORCED = ("not graded: --enforce-imports holds your files to the assignment's import "
                 "rule (README.md, \"Imports\"); remove or replace the imports named at the "
                 "start")
ALWAYS_ALLOWED = ("__future__",)


@dataclass(frozen=True)
class Imported:
    """One imported name: the statement as 'import X' / 'from X import Y' (aliases
    dropped), the top-level module it loads ('' for a relative import), and its line."""
    statement: str
    top: str
    line: int = field(default=0, compare=False)
    name: str = field(default="", compare=False)     # as imported: 'a.b', 'Y'


def imports_in(source: str) -> list[Imported]:
    """Every import in ``source``, imports inside functions included."""
    found = []
    for node in ast.walk(parse_python(source)):
        if isinstance(node, ast.Import):
            found += [Imported(f"import {alias.name}", alias.name.split(".")[0], node.lineno,
                               alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            top = "" if node.level else module.split(".")[0]
            found += [Imported(f"from {module} import {alias.name}", top, node.lineno,
                               alias.name) for alias in node.names]
    return found


def imports_of(source: str) -> set[str]:
    """Every import in ``source`` as 'import X' or 'from X import Y' (aliases dropped,
    imports inside functions included)."""
    return {imported.statement for imported in imports_in(source)}


def with_variants(allowed: frozenset[str], name_variants: Mapping) -> frozenset[str]:
    """``allowed`` plus every published spelling of the names it imports: importing
    `digitconvolution_Loss` is as legitimate as importing `digitconvolution_loss`."""
    more = set(allowed)
    for statement in allowed:
        head, _, imported = statement.rpartition(" import ")
        for variants in name_variants.values():
            if head.startswith("from ") and imported in variants:
                more.update(f"{head} import {variant}" for variant in variants)
    return frozenset(more)


def own_module(name: str, student_dir: Path) -> bool:
    """Whether ``name`` is a module of the student's own, in their folder."""
    return (student_dir / f"{name}.py").is_file() or (student_dir / name / "__init__.py").is_file()


def installed_here(name: str) -> bool:
    """Whether this machine (the one grading) has the top-level module ``name``:
    the standard library, or anything ``find_spec`` finds without importing it."""
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError, AttributeError):
        return True   # a finder's own trouble is not the student's: never warn on it


def rule_modules(rule: ImportRule, assignment: Assignment) -> tuple[str, ...]:
    """The top-level modules a rule names, and the assignment's support modules."""
    return tuple(dict.fromkeys((*rule.modules, *assignment.support_names)))


def allowed_by_rule(imported: Imported, rule: ImportRule, assignment: Assignment,
                    student_dir: Path) -> bool:
    if imported.top in ALWAYS_ALLOWED or imported.top in rule_modules(rule, assignment):
        return True
    if not rule.installed:
        return False
    own = {Path(name).stem for name in assignment.student_files}
    return (imported.top == "" or imported.top in own or own_module(imported.top, student_dir)
            or installed_here(imported.top))


def warning(file_name: str, imported: Imported, rule: ImportRule | None,
            assignment: Assignment, where: str | None = None) -> str:
    """The message for an import ``rule`` does not allow, naming the file; for code
    made into ``file_name`` from a notebook or script, naming the place it is at
    (``where``: 'Project3.py, line 4', 'hw.ipynb, cell 2, line 1')."""
    start = f"{where} (used as {file_name})" if where else file_name
    who = f"the code used as {file_name}" if where else file_name
    if rule is None:
        return f"{start}: `{imported.statement}` is not one of the skeleton's imports"
    if rule.installed:
        return (f"{start}: `{imported.statement}`: {imported.top} is not installed where "
                f"you will be graded; do it with the standard library, "
                f"{', '.join(rule_modules(rule, assignment))} or files of your own "
                "(handed in with the others)")
    return (f"{start}: `{imported.statement}` is not allowed: {who} may import "
            f"only {in_words(rule_modules(rule, assignment))}; write it with those")


@dataclass(frozen=True)
class ImportWarnings:
    """What a submission's files import against their rules: the warnings (each
    naming its file) by file, and whether a file that broke them has a rule."""
    by_file: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    ruled_files: frozenset = frozenset()

    def __bool__(self) -> bool:
        return bool(self.by_file)

    def for_files(self, names: Iterable[str]) -> tuple[str, ...]:
        return tuple(message for name in names for message in self.by_file.get(name, ()))

    def intro(self) -> str:
        """The note that starts the list at the start of a run."""
        return RULE_INTRO if self.ruled_files & set(self.by_file) else SKELETON_ONLY_INTRO

    def enforced(self, names: Iterable[str]) -> str:
        """Why the checks of a question using ``names`` earn nothing (--enforce-imports)."""
        broken = {name for name in names if name in self.by_file}
        return RULE_ENFORCED if self.ruled_files & broken else SKELETON_ONLY_ENFORCED


def check_imports(student_dir: Path, assignment: Assignment,
                  made: Mapping | None = None) -> ImportWarnings:
    """For each submitted file the table has imports or a rule for, the imports its
    rule does not allow. ``made``: file name -> the module made for it from notebooks
    and scripts (core/handed_in.py ``Module``); its text is checked instead, but the
    imports only code of other files uses (``Module.foreign_imports``), and each
    warning names the notebook cell or script line of the import."""
    by_file, made = {}, made or {}
    for name in dict.fromkeys((*assignment.allowed_imports, *assignment.import_rules)):
        rule = assignment.import_rules.get(name)
        skeleton = with_variants(assignment.allowed_imports.get(name, frozenset()),
                                 assignment.name_variants)
        module = made.get(name)
        try:
            text = module.text if module is not None else \
                (student_dir / name).read_text(encoding="utf-8", errors="replace")
            found = imports_in(text)
        except (OSError, SyntaxError, ValueError):
            continue  # missing or unparsable: the sandbox reports it with the question
        if module is not None:    # imports only other files' code uses: checked with it
            found = [imported for imported in found
                     if (imported.line, imported.name) not in module.foreign_imports]
        unique = {}
        for imported in found:      # the first place an import is made is named
            unique.setdefault(imported.statement, imported)
        refused = [unique[statement] for statement in sorted(unique)
                   if statement not in skeleton and (
                       rule is None or not allowed_by_rule(unique[statement], rule,
                                                           assignment, student_dir))]
        if refused:
            by_file[name] = tuple(
                warning(name, imported, rule, assignment,
                        module.where(imported.line) if module is not None else None)
                for imported in refused)
    return ImportWarnings(MappingProxyType(by_file), frozenset(assignment.import_rules))
