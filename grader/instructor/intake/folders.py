"""A folder of per-student folders and/or per-student ``.zip`` files: the layout
every other one falls back to (``--layout folders``). Each folder or zip is one
submission, named after it."""

from __future__ import annotations

from pathlib import Path

from grader.instructor.common.submission import UNREADABLE, Submission, SubmissionsError
from grader.instructor.intake.files import from_folder, from_zip, link_note, visible_entries

NAME = "folders"
FOLDERS, ZIPS, MIXED = "folders", "zips", "mixed"     # the layouts reported


def collect(path: Path, workdir: Path) -> tuple[str, list[Submission]]:
    entries = visible_entries(path)
    if not entries:
        raise SubmissionsError(f"{path} is empty: put one folder or .zip per student in it")
    links = [entry for entry in entries if entry.is_symlink()]
    folders = [entry for entry in entries if entry.is_dir() and entry not in links]
    zips = [entry for entry in entries if entry.is_file() and entry not in links
            and entry.suffix.lower() == ".zip"]
    if not folders and not zips and not links:
        raise SubmissionsError(f"{path} holds no folders or .zip files: put one folder or "
                               ".zip per student in it")
    layout = MIXED if folders and zips else (FOLDERS if folders else ZIPS)
    folder_ids = {folder.name for folder in folders}
    submissions = [from_folder(folder.name, folder, folder) for folder in folders]
    # A student's folder or zip that is a link is not followed: it could be anyone's.
    submissions += [Submission(link.name, link, {}, (), UNREADABLE, link_note(link, path))
                    for link in links]
    for archive in zips:
        # "alice/" next to "alice.zip": keep both, told apart by the zip's full name
        sub_id = archive.name if archive.stem in folder_ids else archive.stem
        submissions.append(from_zip(sub_id, archive, workdir))
    return layout, sorted(submissions, key=lambda sub: sub.id)


