"""Canvas's "Download Submissions": one flat folder (zipped as ``submissions.zip``);
each uploaded file is named ``<sortable name>_<user id>_<attachment id>_<file name>``,
with ``LATE`` (``late`` in older Canvas) between the name and the user id for late
work. The sortable name ("Doe, Jane") is lowercased with everything but letters,
digits and ``_`` dropped (``doejane``). A file name Canvas already held for the
student gets ``-1``, ``-2``... before its extension (``models-1.py``). Text entries
and links come as ``<name>_<user id>_text.html`` / ``_link.html``."""

from __future__ import annotations

import re
from pathlib import Path

from grader.instructor.intake.lms import LmsLayout, Upload

NAME = "canvas"
CANVAS_FILE = re.compile(r"^(?P<name>\w+?)_(?:(?P<late>late|LATE)_)?(?P<user>\d+)_"
                         r"(?P<attachment>\d+)_(?P<file>.+)$")
CANVAS_TEXT = re.compile(r"^(?P<name>\w+?)_(?:(?P<late>late|LATE)_)?(?P<user>\d+)_"
                         r"(?P<kind>text|link)\.html$")
RESUBMITTED = re.compile(r"^(?P<stem>.+?)-(?P<number>\d+)(?P<suffix>(\.[^.\-]+)*)$")


def upload(path: Path) -> Upload | None:
    """The upload a Canvas download entry is, or None if its name is not Canvas's."""
    if path.is_dir():
        return None
    if match := CANVAS_TEXT.match(path.name):
        return Upload(path, path.name, match["user"], match["name"], bool(match["late"]),
                      kind=match["kind"])
    match = CANVAS_FILE.match(path.name)
    if not match:
        return None
    file_name, number = match["file"], 0
    if again := RESUBMITTED.match(file_name):
        file_name, number = again["stem"] + again["suffix"], int(again["number"])
    return Upload(path, path.name, match["user"], match["name"], bool(match["late"]),
                  file_name, number, int(match["attachment"]))


LAYOUT = LmsLayout(NAME, "Canvas", "Canvas's \"Download Submissions\"",
                   "<sortable name>_<user id>_<attachment id>_<file name>, e.g. "
                   "doejane_12345_67890_models.py", upload)
locate, required, collect = LAYOUT.locate, LAYOUT.required, LAYOUT.collect
