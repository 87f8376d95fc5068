"""Canvas's "Download Submissions" and Moodle's "Download all submissions", as they come.

Canvas writes one flat folder (zipped as ``submissions.zip``); each uploaded file is
named ``<sortable name>_<user id>_<attachment id>_<file name>``, with ``LATE`` (``late``
in older Canvas) between the name and the user id for late work. The sortable name
("Doe, Jane") is lowercased with everything but letters, digits and ``_`` dropped
(``doejane``). A file name Canvas already held for the student gets ``-1``, ``-2``...
before its extension (``models-1.py``). Text entries and links come as
``<name>_<user id>_text.html`` / ``_link.html``.

Moodle writes a folder per participant and plugin, ``<full name>_<participant
id>_assignsubmission_file_`` (the student's files inside, their own folders kept), or,
with "Download submissions in folders" off, flat files
``<full name>_<participant id>_assignsubmission_file_<file name>``. Online text comes
as ``..._assignsubmission_onlinetext_`` (``onlinetext.html``). Moodle writes the full
name with any ``_`` turned into a space, so the first ``_`` ends it.

Each student's files are copied (or, for zips, extracted safely) into one folder of
their own under the work folder, under the student's own file names, and searched
there like any submission. Of several uploads of one file name the newest is kept
(the highest ``-N``, then the highest attachment id); the others are set aside and
named. Entries whose names fit neither system are graded as the other layouts grade
them (a folder or zip is a submission of its own) or, for a loose file, listed.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from grader.instructor.submissions import (OK, UNREADABLE, Submission, SubmissionsError,
                                           Submitter, _extract, _fresh_dir, _from_folder,
                                           _from_zip, _visible_entries, safe_name)

CANVAS, MOODLE = "canvas", "moodle"
SYSTEMS = {CANVAS: "Canvas", MOODLE: "Moodle"}
DOWNLOADS = {CANVAS: "Canvas's \"Download Submissions\"",
             MOODLE: "Moodle's \"Download all submissions\""}
EXAMPLES = {CANVAS: "<sortable name>_<user id>_<attachment id>_<file name>, e.g. "
                    "doejane_12345_67890_models.py",
            MOODLE: "<full name>_<participant id>_assignsubmission_file_, e.g. "
                    "'Jane Doe_1234567_assignsubmission_file_'"}

CANVAS_FILE = re.compile(r"^(?P<name>\w+?)_(?:(?P<late>late|LATE)_)?(?P<user>\d+)_"
                         r"(?P<attachment>\d+)_(?P<file>.+)$")
CANVAS_TEXT = re.compile(r"^(?P<name>\w+?)_(?:(?P<late>late|LATE)_)?(?P<user>\d+)_"
                         r"(?P<kind>text|link)\.html$")
MOODLE_ENTRY = re.compile(r"^(?P<name>[^_/]+)_(?P<user>\d+)_assignsubmission_"
                          r"(?P<plugin>[a-z]+)_(?P<file>.*)$")
RESUBMITTED = re.compile(r"^(?P<stem>.+?)-(?P<number>\d+)(?P<suffix>(\.[^.\-]+)*)$")


@dataclass(frozen=True)
class Upload:
    """One entry of the download that belongs to a student: a file (``folder`` False)
    or one of Moodle's per-participant folders. ``kind`` is ``file`` (graded) or what
    the LMS calls anything else (``text``, ``link``, ``onlinetext``: not graded)."""
    path: Path
    entry: str              # its name in the download
    user_id: str
    name: str
    late: bool = False
    file_name: str = ""     # the student's own name for it, without Canvas's -N
    resubmission: int = 0   # Canvas's -N
    attachment: int = 0     # Canvas's attachment id
    kind: str = "file"
    folder: bool = False


def canvas_upload(path: Path) -> Upload | None:
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


def moodle_upload(path: Path) -> Upload | None:
    """The upload a Moodle download entry is, or None if its name is not Moodle's."""
    match = MOODLE_ENTRY.match(path.name)
    if not match or path.is_dir() != (match["file"] == ""):
        return None
    kind = "file" if match["plugin"] == "file" else match["plugin"]
    return Upload(path, path.name, match["user"], match["name"].strip(), False,
                  match["file"], kind=kind, folder=path.is_dir())


PARSERS = {CANVAS: canvas_upload, MOODLE: moodle_upload}


def detect(root: Path) -> tuple[str | None, Path]:
    """``(system, folder)`` when most entries of ``root`` (or of its only subfolder, a
    download unzipped into a folder of its own) are named as Canvas or Moodle name
    them; ``(None, root)`` otherwise."""
    entries = _visible_entries(root)
    for system, parse in PARSERS.items():
        if entries and 2 * sum(parse(entry) is not None for entry in entries) > len(entries):
            return system, root
    if len(entries) == 1 and entries[0].is_dir():
        inner = _visible_entries(entries[0])
        for system, parse in PARSERS.items():
            if inner and 2 * sum(parse(entry) is not None for entry in inner) > len(inner):
                return system, entries[0]
    return None, root


def forced_root(root: Path, system: str) -> Path:
    """The folder of ``root`` holding the download when ``--layout`` names ``system``:
    ``root`` or its only subfolder; raises ``SubmissionsError`` when no entry's name
    fits ``system``'s naming."""
    entries = _visible_entries(root)
    if any(PARSERS[system](entry) for entry in entries):
        return root
    if len(entries) == 1 and entries[0].is_dir() \
            and any(PARSERS[system](entry) for entry in _visible_entries(entries[0])):
        return entries[0]
    raise SubmissionsError(
        f"--layout {system}: none of the {len(entries)} entries of the download is named "
        f"the way {DOWNLOADS[system]} names them ({EXAMPLES[system]}); check that this is the "
        "download, or give --layout auto to detect the layout from the names")


def collect(root: Path, shown: Path, system: str,
            workdir: Path) -> tuple[list[Submission], list[str]]:
    """One submission per student of the download in ``root`` (``shown`` is the path
    the instructor gave: sources are named under it, so they stay the same from run to
    run), then the entries whose names fit no pattern; and the notes to print once."""
    uploads: dict[str, list[Upload]] = {}
    submissions, loose = [], []
    for entry in _visible_entries(root):
        upload = PARSERS[system](entry)
        if upload is not None:
            uploads.setdefault(upload.user_id, []).append(upload)
        elif entry.is_dir():
            submissions.append(_from_folder(entry.name, shown / entry.name, entry))
        elif entry.suffix.lower() == ".zip":
            submissions.append(_from_zip(entry.stem, entry, workdir))
        else:
            loose.append(entry.name)
    for user_id in sorted(uploads):
        submissions.append(_student(uploads[user_id], shown, system, workdir))
    submissions = _unique_ids(submissions)
    notes = []
    late = sum(bool(sub.lms and sub.lms["late"]) for sub in submissions)
    if late:
        notes.append(f"{late} of {len(uploads)} students' work is marked late by "
                     f"{SYSTEMS[system]} (the late column of grades.csv): no late penalty "
                     "is applied")
    if loose:
        notes.append(f"{len(loose)} file(s) named as no {SYSTEMS[system]} submission are "
                     f"not graded: {', '.join(loose)}; grade them by hand, or put each "
                     "student's files in a folder of their own")
    return sorted(submissions, key=lambda sub: sub.id), notes


# ------------------------------------------------------------------ one student

def _student(uploads: list[Upload], shown: Path, system: str, workdir: Path) -> Submission:
    """Group one student's uploads into one folder and search it."""
    first = min(uploads, key=lambda upload: upload.entry)
    name, user_id = first.name, first.user_id
    sub_id = safe_name(f"{name.replace(' ', '_')}_{user_id}")
    kept, set_aside = _newest(uploads)
    notes = []
    if set_aside:
        notes.append(f"set aside older uploads {', '.join(set_aside)}: the newest upload of "
                     "each file name is graded (a file under another name is another file, "
                     "kept as well)")
    ungraded = sorted(upload.entry for upload in uploads if upload.kind != "file")
    if ungraded:
        notes.append(f"{', '.join(ungraded)} (online text or link) is not graded: read it "
                     f"in {SYSTEMS[system]}")
    folder = _fresh_dir(workdir, sub_id)
    problem = ""
    for upload in kept:
        problem = problem or _place(upload, folder, notes)
    lms = {"system": system, "user_id": user_id, "name": name,
           "late": any(upload.late for upload in uploads), "set_aside": set_aside}
    submitters = (Submitter(name=name, sid=user_id),)
    source = shown / first.entry
    if problem:
        return Submission(sub_id, source, {}, submitters, UNREADABLE,
                          "; ".join([problem, *notes]), lms)
    found = _from_folder(sub_id, source, folder)
    text = "; ".join(part for part in (found.problem, *notes) if part)
    files = found.files if found.status == OK else {}
    return Submission(sub_id, source, files, submitters, found.status, text, lms)


def _newest(uploads: list[Upload]) -> tuple[list[Upload], list[str]]:
    """Of each file name, the newest upload (highest -N, then attachment id); the
    download names of the others, sorted."""
    by_name: dict[tuple[str, bool], list[Upload]] = {}
    for upload in uploads:
        if upload.kind == "file":
            by_name.setdefault((upload.file_name, upload.folder), []).append(upload)
    kept, set_aside = [], []
    for key in sorted(by_name):
        ordered = sorted(by_name[key], key=lambda u: (u.resubmission, u.attachment, u.entry))
        kept.append(ordered[-1])
        set_aside += [upload.entry for upload in ordered[:-1]]
    return kept, sorted(set_aside)


def _place(upload: Upload, folder: Path, notes: list[str]) -> str:
    """Copy (or extract) one upload into the student's ``folder`` under the student's
    own file name; returns the problem that makes the submission unreadable, or ""."""
    if upload.folder:      # Moodle's folder of the student's files, their folders kept
        shutil.copytree(upload.path, folder, dirs_exist_ok=True)
        for inner in sorted(folder.iterdir()):
            if inner.is_file() and inner.suffix.lower() == ".zip":
                problem = _unzip(inner, inner.name, folder)
                inner.unlink()
                if problem:
                    return problem
        return ""
    if upload.file_name.lower().endswith(".zip"):
        return _unzip(upload.path, upload.file_name, folder)
    try:
        if upload.path.stat().st_size == 0:
            notes.append(f"{upload.file_name} is empty (0 bytes) in the download: graded "
                         "as it is; ask the student to upload it again if that is wrong")
        shutil.copyfile(upload.path, folder / upload.file_name)
    except OSError as error:
        return (f"cannot read {upload.entry} ({error.strerror or error}): fix its "
                "permissions and run again")
    return ""


def _unzip(archive: Path, file_name: str, folder: Path) -> str:
    """Extract the student's zip into a folder of its own name (without .zip) inside
    the student's ``folder``, so that its files never replace the loose ones."""
    if archive.stat().st_size == 0:
        return (f"{file_name} is empty (0 bytes) in the download: ask the student to "
                "upload it again")
    target = folder / (Path(file_name).stem or "zip")
    while target.exists():
        target = target.with_name(target.name + "_")
    return _extract(archive, target).replace(archive.name, file_name)


def _unique_ids(submissions: list[Submission]) -> list[Submission]:
    """Every id once: a later duplicate (a stray folder named like a student's id)
    gets ``-2``, ``-3``..."""
    seen: set[str] = set()
    unique = []
    for sub in sorted(submissions, key=lambda s: (s.id, s.lms is None, str(s.source))):
        sub_id, number = sub.id, 1
        while sub_id in seen:
            number += 1
            sub_id = f"{sub.id}-{number}"
        seen.add(sub_id)
        unique.append(sub if sub_id == sub.id else Submission(
            sub_id, sub.source, sub.files, sub.submitters, sub.status, sub.problem, sub.lms))
    return unique
