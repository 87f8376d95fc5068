"""Finds the student submissions to grade in bulk, whatever shape the instructor got.

``find(path, workdir)`` takes a folder, or a .zip of one, and tries the layouts told
from their names in ``DETECTED``'s order: Gradescope's "Export Submissions"
(gradescope.py), Canvas's "Download Submissions" (canvas.py), Moodle's "Download all
submissions" (moodle.py); a folder none of them fits is a folder of per-student
folders and/or zips (folders.py). ``--layout`` (``LAYOUT_CHOICES``) names one instead.
Every zip is extracted into a fresh folder under ``workdir``; nothing is written next
to the input. Each submission comes back as a value (``Submission``) with a status
and, when something is wrong, a one-sentence ``problem`` saying what to do; ``find``
also returns the notes to print once.

A layout is a module with ``NAME``, ``locate(root)`` (the folder of ``root`` holding
its download, or None when the names do not fit), ``required(root, given)`` (the same
for ``--layout NAME``, raising ``SubmissionsError`` with what is wrong) and
``collect(download, shown, workdir)`` (the submissions and the notes). A new LMS is
one such module and one entry of ``DETECTED``.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.instructor.common.submission import Submission, SubmissionsError
from grader.instructor.intake import canvas, folders, gradescope, moodle
from grader.instructor.intake.files import check_workdir_outside, extract, fresh_dir

# The layouts told from the names, in the order they are tried.
DETECTED = (gradescope, canvas, moodle)
AUTO = "auto"
LAYOUT_CHOICES = (AUTO, folders.NAME, *(layout.NAME for layout in DETECTED))


@dataclass(frozen=True)
class Found:
    """What ``find`` found: the layout, the submissions (sorted by id) and notes for
    the instructor, each one sentence, to print once."""
    layout: str
    submissions: list[Submission]
    notes: list[str] = field(default_factory=list)


def discover(path: Path, workdir: Path, layout: str = AUTO) -> tuple[str, list[Submission]]:
    """``find``'s layout and submissions."""
    found = find(path, workdir, layout)
    return found.layout, found.submissions


def find(path: Path, workdir: Path, layout: str = AUTO) -> Found:
    """Detect the layout of ``path`` (or take ``layout``, one of ``LAYOUT_CHOICES``)
    and find its submissions.

    ``path`` is a folder (of folders and/or zips, an unpacked Gradescope export, or
    Canvas's or Moodle's download) or a .zip of an export or download. Zips are
    extracted under ``workdir`` only. Raises ``SubmissionsError`` when ``path`` cannot
    be used at all."""
    path, workdir = Path(path), Path(workdir)
    if layout not in LAYOUT_CHOICES:
        raise SubmissionsError(f"there is no layout {layout!r}; choose from "
                               f"{', '.join(LAYOUT_CHOICES)}")
    if not path.exists():
        raise SubmissionsError(f"{path} does not exist: give the folder or .zip of submissions")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise SubmissionsError(f"{path} is neither a folder nor a .zip file: give the folder "
                                   "of submissions, Gradescope's export .zip, or Canvas's or "
                                   "Moodle's download .zip")
        root = _unpack(path, workdir)
    elif path.is_dir():
        check_workdir_outside(path, workdir)
        root = path
    else:
        raise SubmissionsError(f"{path} is neither a folder nor a .zip file")
    chosen, download = None, None
    if layout == AUTO:
        for candidate in DETECTED:
            download = candidate.locate(root)
            if download is not None:
                chosen = candidate
                break
    elif layout != folders.NAME:
        chosen = next(candidate for candidate in DETECTED if candidate.NAME == layout)
        download = chosen.required(root, path)
    if chosen is not None:
        shown = path if download == root else path / download.relative_to(root)
        submissions, notes = chosen.collect(download, shown, workdir)
        return Found(chosen.NAME, submissions, notes)
    if path.is_file() and layout == AUTO:
        raise SubmissionsError(f"{path} has no {gradescope.METADATA_FILE} and its names are "
                               "not Canvas's or Moodle's: give Gradescope's 'Export "
                               "Submissions' zip, Canvas's or Moodle's download zip, or a "
                               "folder of student folders/zips (or --layout folders)")
    return Found(*folders.collect(root, workdir))


def _unpack(archive: Path, workdir: Path) -> Path:
    """The whole export or download, extracted into a fresh folder under ``workdir``."""
    destination = fresh_dir(workdir, archive.stem)
    problem = extract(archive, destination)
    if problem:
        raise SubmissionsError(problem)
    return destination
