"""Which assignment (course version) a class is, from its submissions' files: each
readable submission is recognised as the autograder recognises a folder, and the
class is graded (or compared) as the one most of them are."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader import assignments
from grader.instructor.common.submission import OK, Submission, safe_name


def recognise_each(submissions: list[Submission], scratch: Path) -> dict[str, str]:
    """The course version each readable submission's files look like, by id. A
    submission whose files cannot be read for it (recognition parses them, inside
    grader/core/parsing.py's rule) is left out here and graded as the class is."""
    found = {}
    for submission in submissions:
        if submission.status != OK:
            continue
        folder = scratch / safe_name(submission.id)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            for name, path in submission.files.items():
                shutil.copyfile(path, folder / name)
            found[submission.id] = assignments.recognise(folder)[0].name
        except Exception:  # noqa: BLE001 - its bytes: it is graded as the class is
            continue
    return found


def majority(recognised: dict[str, str]) -> str:
    """The version most submissions match (on a tie, the first in registry order)."""
    names = list(recognised.values())
    return max(assignments.names(), key=lambda name: (names.count(name),
               -assignments.names().index(name))) if names else assignments.default_name()


def course_note(course: str, recognised: dict[str, str], chosen: bool) -> str:
    """The one line that says which version the class is graded as, and how many
    submissions look like another (flagged in the CSV's recognised_as column)."""
    others = {}
    for name in recognised.values():
        if name != course:
            others[name] = others.get(name, 0) + 1
    why = "as --course says" if chosen else (
        f"the version {len(recognised) - sum(others.values())} of {len(recognised)} "
        "readable submissions match; give --course to choose another")
    line = f"Grading every submission as {course} ({why})"
    if others:
        line += ("; " + ", ".join(f"{count} look like {name}" for name, count in
                                  sorted(others.items()))
                 + ": flagged in grades.csv (recognised_as) and index.html")
    return line
