"""The judge's own copy of the graded data: verified and kept in memory.

The judge reads ``data/mnist.npz`` and ``data/lang_id.npz`` once, before any student
code runs, and checks them against the digests published in data/README.md. It
scores predictions against these in-memory labels, so nothing a sandbox does to the
files (or to numpy, or to backend) changes a score. (grader/judge/staff_files.py puts back
any project file, these included, that student code changed.)
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

# Must equal the table in data/README.md (tests/test_grader_units.py checks this).
GRADED_FILES = {
    "mnist.npz": "5b88a319a829cfa69ce635687957cf33ed2fbb4fa7da18a7703a9c86b8a2d529",
    "lang_id.npz": "397c452dd91f4db5d323396d17fe83fb0dfba411494a198fa3c33424b0c8c70d",
}


class DataProblem(Exception):
    """A graded data file is missing or differs from the shipped one."""


class JudgeData:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self._original: dict[str, bytes] = {}
        self._arrays: dict[str, dict[str, np.ndarray]] = {}
        for name, digest in GRADED_FILES.items():
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
