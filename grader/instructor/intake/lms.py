"""What Canvas's "Download Submissions" and Moodle's "Download all submissions" share:
one student's uploads, spread over the download, made into one submission.

The two systems' own names are read by grader/instructor/intake/canvas.py and
moodle.py (each an ``LmsLayout``); this module does the rest for both.

Each student's files are copied (or, for zips, extracted safely) into one folder of
their own under the work folder, under the student's own file names, and searched
there like any submission. Of several uploads of one file name the newest is kept
(the highest ``-N``, then the highest attachment id); the others are set aside and
named. Entries whose names fit neither system are graded as the other layouts grade
them (a folder or zip is a submission of its own) or, for a loose file, listed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.instructor.common.submission import (OK, UNREADABLE, Submission,
                                                 SubmissionsError, Submitter, safe_name)
from grader.instructor.intake.files import (extract, fresh_dir, from_folder, from_zip,
                                            is_code_entry, link_note, visible_entries)


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


@dataclass(frozen=True)
class LmsLayout:
    """One LMS's download as a layout of ``intake/find.py``: its ``--layout`` name, the
    system's name, what its download is called, an example of its names, and the
    function that reads one entry's name (``None`` when it is not the system's)."""
    name: str
    system: str
    download: str
    example: str
    upload: Callable[[Path], "Upload | None"]

    def fits(self, entries: list[Path]) -> bool:
        """Whether most of ``entries`` are named as this system names them."""
        return bool(entries) and 2 * sum(self.upload(entry) is not None
                                         for entry in entries) > len(entries)

    def locate(self, root: Path) -> Path | None:
        """``root`` or its only subfolder (a download unzipped into a folder of its
        own) when most of its entries are named as this system names them; else None."""
        entries = visible_entries(root)
        if self.fits(entries):
            return root
        if len(entries) == 1 and entries[0].is_dir() and self.fits(visible_entries(entries[0])):
            return entries[0]
        return None

    def required(self, root: Path, given: Path) -> Path:
        """The folder of ``root`` holding the download when ``--layout`` names this
        system: ``root`` or its only subfolder; raises ``SubmissionsError`` when no
        entry's name fits the system's naming."""
        entries = visible_entries(root)
        if any(self.upload(entry) for entry in entries):
            return root
        if len(entries) == 1 and entries[0].is_dir() \
                and any(self.upload(entry) for entry in visible_entries(entries[0])):
            return entries[0]
        raise SubmissionsError(
            f"--layout {self.name}: none of the {len(entries)} entries of the download is "
            f"named the way {self.download} names them ({self.example}); check that this is "
            "the download, or give --layout auto to detect the layout from the names")

    def collect(self, root: Path, shown: Path,
                workdir: Path) -> tuple[list[Submission], list[str]]:
        """One submission per student of the download in ``root`` (``shown`` is the path
        the instructor gave: sources are named under it, so they stay the same from run to
        run), then the entries whose names fit no pattern; and the notes to print once."""
        uploads: dict[str, list[Upload]] = {}
        submissions, loose, links = [], [], []
        for entry in visible_entries(root):
            if entry.is_symlink():      # never followed: it could point anywhere
                links.append(link_note(entry, root))
                continue
            upload = self.upload(entry)
            if upload is not None:
                uploads.setdefault(upload.user_id, []).append(upload)
            elif entry.is_dir():
                submissions.append(from_folder(entry.name, shown / entry.name, entry))
            elif entry.suffix.lower() == ".zip":
                submissions.append(from_zip(entry.stem, entry, workdir))
            else:
                loose.append(entry.name)
        for user_id in sorted(uploads):
            submissions.append(_student(uploads[user_id], shown, self, workdir))
        submissions = _unique_ids(submissions)
        notes = [f"{note} (not graded)" for note in links]
        late = sum(bool(sub.lms and sub.lms["late"]) for sub in submissions)
        if late:
            notes.append(f"{late} of {len(uploads)} students' work is marked late by "
                         f"{self.system} (the late column of grades.csv): no late penalty "
                         "is applied")
        if loose:
            notes.append(f"{len(loose)} file(s) named as no {self.system} submission are "
                         f"not graded: {', '.join(loose)}; grade them by hand, or put each "
                         "student's files in a folder of their own")
        return sorted(submissions, key=lambda sub: sub.id), notes


# ------------------------------------------------------------------ one student

def _student(uploads: list[Upload], shown: Path, layout: LmsLayout, workdir: Path) -> Submission:
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
                     f"in {layout.system}")
    folder = fresh_dir(workdir, sub_id)
    problem = ""
    for upload in kept:
        problem = problem or _place(upload, folder, notes)
    lms = {"system": layout.name, "user_id": user_id, "name": name,
           "late": any(upload.late for upload in uploads), "set_aside": set_aside}
    submitters = (Submitter(name=name, sid=user_id),)
    source = shown / first.entry
    if problem:
        return Submission(sub_id, source, {}, submitters, UNREADABLE,
                          "; ".join([problem, *notes]), lms)
    found = from_folder(sub_id, source, folder)
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
        shutil.copytree(upload.path, folder, symlinks=True, dirs_exist_ok=True)
        for inner in sorted(folder.iterdir()):
            if inner.is_file() and not inner.is_symlink() and inner.suffix.lower() == ".zip":
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
    return extract(archive, target, keep=is_code_entry).replace(archive.name, file_name)


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
