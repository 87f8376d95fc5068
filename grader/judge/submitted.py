"""Which of a submission's expected files (``models.py``...) the judge leaves out,
and why, before any question runs: in every mode, the sandbox is told and refuses to
import them, and the start of the output names each with its reason.

- A symbolic link is never followed: it could point at the staff solution, a
  classmate's folder, anything the grading user can read.
- A file over ``STUDENT_FILE_LIMIT`` is not student-written source (the sandboxes'
  copies never held one); the message gives its size and the limit.
- A file with NUL bytes is not Python source text (a binary saved under the name).
"""

from __future__ import annotations

import os
from pathlib import Path

STUDENT_FILE_LIMIT = 2 * 2**20     # bytes: a student .py file larger than this is left out


def megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def left_out(student_dir: Path, names: tuple[str, ...]) -> dict[str, str]:
    """file name -> why it is not graded, for each of ``names`` in ``student_dir``
    that is a link, too large, or binary; files that are fine or absent are not
    listed."""
    reasons = {}
    for name in names:
        path = student_dir / name
        try:
            if path.is_symlink():
                reasons[name] = (f"{name} is a symbolic link to '{os.readlink(path)}': it was "
                                 "left out, since links are never followed; hand in the file "
                                 "itself")
                continue
            if not path.is_file():
                continue
            size = path.stat().st_size
            if size > STUDENT_FILE_LIMIT:
                reasons[name] = (f"{name} is {megabytes(size)}, over the "
                                 f"{megabytes(STUDENT_FILE_LIMIT)} a student file may be: it "
                                 "was left out; hand in the source code alone (data or "
                                 "saved weights belong in files of their own)")
                continue
            with path.open("rb") as handle:
                offset = handle.read(size).find(b"\0")
            if offset >= 0:
                reasons[name] = (f"{name} holds binary bytes (a NUL byte at byte {offset}), "
                                 "not Python source text: it was left out; save it as plain "
                                 "text (.py) and hand it in again")
        except OSError as error:
            reasons[name] = f"{name} could not be read ({error.strerror or error}): it was left out"
    return reasons
