"""What the grader grades: one package per assignment, and the registry of them.

An assignment is data. Each package here (``grader/assignments/<package>/``) has a
``table.py`` whose ``ASSIGNMENTS`` lists ``Assignment`` entries (grader/core/table.py):
name and summary, student files and skeletons, questions (each row pointing at its
question module), allowed imports, published name variants, how its files are
recognised, release contents and the folder of its staff solutions. Adding a package
adds the assignment to ``--course``, recognition, bulk grading, the Gradescope bundle
and the release; the judge does not change.

The course's project (package ``course``) is the default. A submission is graded as
another assignment when that assignment recognises its files (said once at the
start); ``--course NAME`` chooses one outright. A student's release holds its own
assignment's package only: there, without the course, its first assignment is the
default and nothing else is recognised.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import pkgutil
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from grader.core import handed_in
from grader.core.source import PROJECT_FILES
from grader.core.table import Assignment

_PROJECT = Path(__file__).resolve().parents[2]   # skeleton paths are relative to it

DEFAULT = "current"
DEFAULT_PACKAGE = "course"


class UnknownAssignment(KeyError):
    """No assignment of that name; the message lists the names there are."""

    def __str__(self) -> str:
        return self.args[0]


@functools.lru_cache(maxsize=None)
def _tables() -> tuple[Mapping[str, Assignment], Mapping[str, str]]:
    """(assignment by name, package by assignment name), in registry order."""
    packages = sorted((info.name for info in pkgutil.iter_modules(__path__) if info.ispkg),
                      key=lambda name: (name != DEFAULT_PACKAGE, name))
    found: dict[str, Assignment] = {}
    homes: dict[str, str] = {}
    for package in packages:
        table = importlib.import_module(f"{__name__}.{package}.table")
        for assignment in getattr(table, "ASSIGNMENTS", ()):
            if assignment.name in found:
                raise ValueError(f"two assignments are called {assignment.name!r} "
                                 f"(the second in grader/assignments/{package}/table.py)")
            found[assignment.name] = assignment
            homes[assignment.name] = package
    if DEFAULT_PACKAGE in packages and DEFAULT not in found:
        raise ValueError(f"the default assignment {DEFAULT!r} is missing")
    if not found:
        raise ValueError("grader/assignments/ holds no assignment")
    return MappingProxyType(found), MappingProxyType(homes)


def registry() -> Mapping[str, Assignment]:
    """Every assignment, by name: the default package's first, then the others' in
    the order of their package names, each package's in the order of its table."""
    return _tables()[0]


def package(name: str) -> str:
    """The package of grader/assignments/ whose table defines assignment ``name``."""
    return _tables()[1][name]


def default_name() -> str:
    """The course's current version; in a release without the course, the first
    assignment its package defines."""
    return DEFAULT if DEFAULT in registry() else next(iter(registry()))


def names() -> list[str]:
    return list(registry())


def get(name: str | None = None) -> Assignment:
    """The assignment called ``name`` (the default one for None)."""
    try:
        return registry()[name or default_name()]
    except KeyError:
        raise UnknownAssignment(f"there is no assignment {name!r}; choose from "
                                f"{', '.join(registry())}") from None


def help_epilog() -> str:
    """The list of assignments that ends --help: one line (wrapped) per name."""
    width = max(len(name) for name in registry()) + 2
    lines = ["course versions and other assignments (--course NAME):"]
    for name, assignment in registry().items():
        words, line = assignment.summary.split(), f"  {name:<{width}}"
        for word in words:
            if len(line) + len(word) >= 79 and line.strip() != name:
                lines.append(line.rstrip())
                line = " " * (width + 2)
            line += word + " "
        lines.append(line.rstrip())
    return "\n".join(lines)


def add_course_option(parser, text: str, default: str | None = None) -> None:
    """Give ``parser`` the option ``--course NAME`` (alias ``--assignment``), and list
    every assignment, one line each, at the end of its --help."""
    parser.add_argument("--course", "--assignment", choices=names(), default=default,
                        metavar="NAME", dest="course", help=text)
    parser.epilog = help_epilog()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def question_ids() -> list[str]:
    """Every question id any assignment has, in registry order (for checking -q early)."""
    ids: list[str] = []
    for assignment in registry().values():
        ids += [q.id for q in assignment.questions if q.id not in ids]
    return ids


def by_files(assignment: Assignment, student_dir: Path) -> str:
    """The default recogniser: ``assignment``'s files that no other assignment has,
    when the folder holds more of them than of the default assignment's files."""
    others = {name for other in registry().values() if other.name != assignment.name
              for name in other.student_files}
    own = [name for name in assignment.student_files
           if name not in others and (student_dir / name).is_file()]
    default = [name for name in get().student_files if (student_dir / name).is_file()]
    if own and len(own) > len(default):
        return f"the folder has {', '.join(own)}"
    return ""


def recognise(student_dir: Path) -> tuple[Assignment, str]:
    """(assignment, why) for the files in ``student_dir``: the first assignment, in
    registry order, that recognises them, else the default one with ''."""
    for assignment in registry().values():
        if assignment.name == default_name():
            continue
        why = (assignment.recognise(student_dir) if assignment.recognise is not None
               else by_files(assignment, student_dir))
        if why:
            return assignment, why
    return by_definitions(student_dir) or (get(), "")


def skeleton_names(assignment: Assignment) -> set[str]:
    """The top-level def/class names of the assignment's skeletons."""
    names = set()
    for student_file in assignment.files:
        try:
            text = (_PROJECT / student_file.names_source).read_text(encoding="utf-8")
        except OSError:
            continue
        names.update(handed_in.skeleton_names(text))
    return names


def by_definitions(student_dir: Path) -> tuple[Assignment, str] | None:
    """A folder of notebooks or scripts (core/handed_in.py): the assignment whose
    skeletons' names they define most, when that is more than the default's."""
    ignore = {*PROJECT_FILES, *(name for a in registry().values() for name in
                                (*a.student_files, *(Path(m).name for m in a.support_modules)))}
    found = handed_in.defined_names(student_dir, ignore)
    if not found:
        return None
    defined = set().union(*found.values())
    best, best_hits = None, sorted(skeleton_names(get()) & defined)
    for assignment in registry().values():
        hits = sorted(skeleton_names(assignment) & defined)
        if assignment.name != default_name() and len(hits) > len(best_hits):
            best, best_hits = assignment, hits
    if best is None:
        return None
    sources = [path for path, names in found.items() if names & set(best_hits)]
    shown = ", ".join(best_hits[:3]) + (f" and {len(best_hits) - 3} more"
                                        if len(best_hits) > 3 else "")
    return best, f"{', '.join(sources)} define{'s' if len(sources) == 1 else ''} {shown}"


def announcement(assignment: Assignment, why: str) -> str:
    """The note printed once at the start when an assignment was recognised."""
    others = ", ".join(name for name in registry() if name != assignment.name)
    return (f"graded as {assignment.called} {assignment.name} ({assignment.summary}), "
            f"because {why}; choose another with --course ({others})")


def staff_solutions() -> list[str]:
    """Every assignment's folder of staff solutions (the release must hold none)."""
    return sorted({assignment.reference for assignment in registry().values()})


def data_files() -> dict[str, str]:
    """name -> sha256 of every data file some assignment scores against; two
    assignments that share a file must name the same digest."""
    digests: dict[str, str] = {}
    for assignment in registry().values():
        for file in assignment.data:
            if digests.setdefault(file.name, file.sha256) != file.sha256:
                raise ValueError(f"{assignment.name} gives data/{file.name} another sha256")
    return digests
