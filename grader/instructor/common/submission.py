"""A submission as every job sees it: the value intake finds (``Submission``), its
statuses, and the file name a submission id is written under.

Intake (grader/instructor/intake/) makes each ``Submission`` with ``ok``, ``no-files``
or ``unreadable``; a bulk run adds ``graded`` and ``grader-error`` in its records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

OK = "ok"
NO_FILES = "no-files"
UNREADABLE = "unreadable"
GRADED, GRADER_ERROR = "graded", "grader-error"     # the statuses a bulk run adds


def printable(text: str) -> str:
    """``text`` with the bytes of a name that is not UTF-8 (Python keeps them as lone
    surrogates) written as ``\\xNN``: printed, hashed and written to CSV and JSON like
    any text, and still telling two such names apart."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_name(identifier: str) -> str:
    """A file name for a submission id (ids come from folder and zip names)."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in identifier) or "_"


class SubmissionsError(Exception):
    """The input as a whole cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Submitter:
    name: str = ""
    email: str = ""
    sid: str = ""


@dataclass(frozen=True)
class Submission:
    """One submission. ``files`` maps each student file found (names from
    ``intake.files.student_file_names()``) and each notebook or script (by its file
    name: they are graded side by side at the top of one folder) to its path;
    ``source`` is the student's folder or zip; ``status`` is ``ok``, ``no-files`` or
    ``unreadable``; ``problem`` is one sentence (empty when there is nothing to say)."""
    id: str
    source: Path
    files: dict[str, Path] = field(default_factory=dict)
    submitters: tuple[Submitter, ...] = ()
    status: str = OK
    problem: str = ""
    # From Canvas or Moodle: {"system", "user_id", "name", "late", "set_aside"}
    lms: dict | None = None

    def __post_init__(self):
        # ids and sentences come from names a submission chose: keep them printable
        object.__setattr__(self, "id", printable(self.id))
        object.__setattr__(self, "problem", printable(self.problem))
