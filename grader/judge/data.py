"""The judge's own copy of the graded data: verified and kept in memory.

The judge reads the data files an assignment scores against (the course's
``data/mnist.npz`` and ``data/lang_id.npz``) once, before any student code runs, and
checks them against the digests in the assignment's table (as data/README.md
publishes them). It scores predictions against these in-memory labels, so nothing a
sandbox does to the files (or to numpy, or to backend) changes a score.
(grader/judge/staff_files.py puts back any project file, these included, that
student code changed.)
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from grader.core.table import DataFile


class DataProblem(Exception):
    """A graded data file is missing or differs from the shipped one."""


class JudgeData:
    """The graded data files of one assignment (its ``data``, grader/core/table.py;
    the default assignment's when ``files`` is None), verified and in memory."""

    def __init__(self, data_dir: Path, files: tuple[DataFile, ...] | None = None):
        if files is None:
            from grader import assignments
            files = assignments.get().data
        self.data_dir = data_dir
        self.files = tuple(files)
        self._original: dict[str, bytes] = {}
        self._arrays: dict[str, dict[str, np.ndarray]] = {}
        for name, digest in ((file.name, file.sha256) for file in self.files):
            path = data_dir / name
            try:
                raw = path.read_bytes()
            except OSError as error:
                raise DataProblem(f"cannot read {path} ({error.strerror or error}). Restore "
                                  f"data/{name} from a fresh download of the project.") from None
            if hashlib.sha256(raw).hexdigest() != digest:
                raise DataProblem(f"{path} differs from the file the project ships (its "
                                  f"sha256 is not {digest[:12]}...). Restore data/{name} from a "
                                  "fresh download of the project (or `git checkout -- "
                                  f"data/{name}`); grades computed on other data would be wrong.")
            self._original[name] = raw

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """All arrays of a graded .npz file, decoded from the verified bytes."""
        if name not in self._arrays:
            with np.load(io.BytesIO(self._original[name]), allow_pickle=False) as archive:
                self._arrays[name] = {key: archive[key] for key in archive.files}
        return self._arrays[name]
