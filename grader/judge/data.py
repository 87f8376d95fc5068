"""The judge's own copy of the graded data: verified and kept in memory.

The judge reads the data files an assignment scores against (the course's
``data/mnist.npz`` and ``data/lang_id.npz``) once, before any student code runs, and
checks them against the digests in the assignment's table (as data/README.md
publishes them). It scores predictions against these in-memory labels, so nothing a
sandbox does to the files (or to numpy, or to backend) changes a score.
(grader/judge/staff_files.py puts back any project file, these included, that
student code changed.)

A release that holds the scored labels back ships a copy with them blanked (its
arrays have the table's ``public_digest``). Only a student's own run accepts that
copy (``students_copy=True``): it scores on the stand-in rows the table names (the
digits the student has) and says so, since the labels it would score are not there.
Bulk grading and Gradescope refuse it.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

from grader.core.table import DataFile


class DataProblem(Exception):
    """A graded data file is missing or differs from the shipped one."""


def arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    """sha256 of the arrays themselves (names, dtypes, shapes and values, in name
    order), whatever zip encoding holds them: the ``public_digest`` of a table."""
    digest = hashlib.sha256()
    for key in sorted(arrays):
        value = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}\0{value.dtype.str}\0{value.shape}\0".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def _decode(raw: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _students_copy(file: DataFile, raw: bytes) -> dict[str, np.ndarray] | None:
    """The arrays of ``raw`` when it is the released copy of ``file`` whose every
    withheld label has a stand-in, else None."""
    if not file.public_digest or any(w.stand_in is None for w in file.withheld):
        return None
    try:
        arrays = _decode(raw)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return arrays if arrays_digest(arrays) == file.public_digest else None


def with_stand_ins(file: DataFile, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``arrays`` with each withheld row (label and input) replaced by its stand-in."""
    arrays = dict(arrays)
    for withheld in file.withheld:
        stand_in, rows = withheld.stand_in, withheld.rows or slice(None)
        for target, source in ((withheld.array, stand_in.labels),
                               (withheld.inputs, stand_in.inputs)):
            replaced = arrays[target].copy()
            replaced[rows] = arrays[source][stand_in.rows]
            arrays[target] = replaced
    return arrays


class JudgeData:
    """The graded data files of one assignment (its ``data``, grader/core/table.py;
    the default assignment's when ``files`` is None), verified and in memory.

    ``students_copy``: a student's own run, which also accepts a release's copy with
    the scored labels blanked (see the top of this file); ``stand_ins`` then names
    the files it holds."""

    def __init__(self, data_dir: Path, files: tuple[DataFile, ...] | None = None,
                 students_copy: bool = False):
        if files is None:
            from grader import assignments
            files = assignments.get().data
        self.data_dir = data_dir
        self.files = tuple(files)
        self._original: dict[str, bytes] = {}
        self._arrays: dict[str, dict[str, np.ndarray]] = {}
        self._as_read: dict[str, dict[str, np.ndarray]] = {}
        self.stand_ins: list[DataFile] = []
        for file in self.files:
            name, digest = file.name, file.sha256
            path = data_dir / name
            try:
                raw = path.read_bytes()
            except OSError as error:
                raise DataProblem(f"cannot read {path} ({error.strerror or error}). Restore "
                                  f"data/{name} from a fresh download of the project.") from None
            if hashlib.sha256(raw).hexdigest() == digest:
                self._original[name] = raw
                continue
            public = _students_copy(file, raw) if students_copy else None
            if public is None:
                raise DataProblem(f"{path} differs from the file the project ships (its "
                                  f"sha256 is not {digest[:12]}...). Restore data/{name} from a "
                                  "fresh download of the project (or `git checkout -- "
                                  f"data/{name}`); grades computed on other data would be wrong.")
            self._as_read[name] = public
            self._arrays[name] = with_stand_ins(file, public)
            self.stand_ins.append(file)

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """All arrays of a graded .npz file, decoded from the verified bytes (for a
        student's copy, the stand-ins in place of the blanked labels)."""
        if name not in self._arrays:
            self._arrays[name] = _decode(self._original[name])
        return self._arrays[name]

    def as_read(self, name: str) -> dict[str, np.ndarray]:
        """The arrays of a graded .npz file as the file holds them."""
        return self._as_read.get(name) or self.arrays(name)

    def stand_in_note(self) -> str:
        """What a student's own run says when it scores on stand-ins ('' if not)."""
        if not self.stand_ins:
            return ""
        parts = [f"data/{file.name} is the students' copy, whose scored labels are blanked, "
                 "so accuracy is measured here on "
                 + " and ".join(w.stand_in.what for w in file.withheld)
                 for file in self.stand_ins]
        return ("; ".join(parts) + " instead: your grade comes from your course's autograder, "
                "which scores the labels it keeps, and may differ")
