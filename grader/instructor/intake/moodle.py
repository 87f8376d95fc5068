"""Moodle's "Download all submissions": a folder per participant and plugin,
``<full name>_<participant id>_assignsubmission_file_`` (the student's files inside,
their own folders kept), or, with "Download submissions in folders" off, flat files
``<full name>_<participant id>_assignsubmission_file_<file name>``. Online text comes
as ``..._assignsubmission_onlinetext_`` (``onlinetext.html``). Moodle writes the full
name with any ``_`` turned into a space, so the first ``_`` ends it."""

from __future__ import annotations

import re
from pathlib import Path

from grader.instructor.intake.lms import LmsLayout, Upload

NAME = "moodle"
MOODLE_ENTRY = re.compile(r"^(?P<name>[^_/]+)_(?P<user>\d+)_assignsubmission_"
                          r"(?P<plugin>[a-z]+)_(?P<file>.*)$")


def upload(path: Path) -> Upload | None:
    """The upload a Moodle download entry is, or None if its name is not Moodle's."""
    match = MOODLE_ENTRY.match(path.name)
    if not match or path.is_dir() != (match["file"] == ""):
        return None
    kind = "file" if match["plugin"] == "file" else match["plugin"]
    return Upload(path, path.name, match["user"], match["name"].strip(), False,
                  match["file"], kind=kind, folder=path.is_dir())


LAYOUT = LmsLayout(NAME, "Moodle", "Moodle's \"Download all submissions\"",
                   "<full name>_<participant id>_assignsubmission_file_, e.g. "
                   "'Jane Doe_1234567_assignsubmission_file_'", upload)
locate, required, collect = LAYOUT.locate, LAYOUT.required, LAYOUT.collect
