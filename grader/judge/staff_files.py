"""The project's own files, kept as they were when grading started.

Student code runs with the same file permissions as the grader (unless a sandbox
user is configured), so it could rewrite ``backend.py``, ``grader/*.py`` or the data
and change how every later question or submission is graded. The judge reads every
staff file into memory before any student code runs and, after each question, puts
back any file that changed or vanished and removes compiled files (``__pycache__``)
that appeared beside the staff modules, which Python would otherwise load instead
of the restored source. Nothing is thrown away: a changed file's content, or a file
that appeared in ``grader/``, is moved to ``.restored/<time>/`` in the project
folder (someone editing the grader while it runs gets their edit back from there).

Each question's sandbox imports the staff code from a private copy written from the
snapshot (``private_copy``), so what one question's code writes next to
``backend.__file__`` reaches neither a question running beside it (``-j``) nor a
later one, and ``changes_in`` charges exactly the question that wrote it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from grader.core.source import PROJECT_FILES

# Staff files: these at the project root, and everything under these folders.
ROOT_FILES = PROJECT_FILES
FOLDERS = ("grader", "data")
COMPILED = "__pycache__"
KEPT_ASIDE = ".restored"   # where changed versions go, under the project folder


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class StaffFiles:
    """A snapshot of the staff files of ``project_root``, and their restoration."""

    def __init__(self, project_root: Path):
        self.root = project_root.resolve()
        self._saved: dict[str, bytes] = {}
        for path in self.paths(self.root):
            relative = path.relative_to(self.root).as_posix()
            try:
                self._saved[relative] = path.read_bytes()
            except OSError:
                continue   # unreadable now: nothing to compare it with later
        self._digests = {name: _digest(data) for name, data in self._saved.items()}
        self._aside = self.root / KEPT_ASIDE / time.strftime("%Y%m%d-%H%M%S")

    @staticmethod
    def paths(root: Path) -> list[Path]:
        """The staff files now present under ``root``."""
        paths = [root / name for name in ROOT_FILES if (root / name).is_file()]
        paths += [path for path in (root / COMPILED).glob("*.pyc")
                  if path.name.split(".")[0] in {Path(n).stem for n in ROOT_FILES}]
        for folder in FOLDERS:
            paths += [path for path in (root / folder).rglob("*") if path.is_file()]
        return sorted(paths)

    def restore(self) -> list[str]:
        """Put back every changed or missing staff file and remove compiled files
        that appeared since the snapshot. Returns the names of restored source and
        data files (compiled files are put right silently: the judge itself may
        have written them)."""
        restored = []
        for name, data in self._saved.items():
            path = self.root / name
            try:
                intact = _digest(path.read_bytes()) == self._digests[name]
            except OSError:
                intact = False
            if not intact:
                if COMPILED not in Path(name).parts:
                    self._keep_aside(path, name)
                    restored.append(name)
                _write(path, data)
        for path in self.paths(self.root):
            name = path.relative_to(self.root).as_posix()
            if name in self._saved:
                continue
            if COMPILED in path.parts:
                path.unlink(missing_ok=True)
            elif Path(name).parts[0] == "grader":
                # A new module in the grader package could be imported by a later
                # question: it goes aside.
                self._keep_aside(path, name)
                path.unlink(missing_ok=True)
                restored.append(name)
        return restored

    def _keep_aside(self, path: Path, name: str) -> None:
        """Move the current version of a staff file (if any) under .restored/."""
        try:
            target = self._aside / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        except OSError:
            pass   # nothing there (deleted), or nowhere to write: restoring matters more


    def private_copy(self) -> Path:
        """A fresh folder holding the snapshot's staff files (compiled files left
        out), for one question's sandbox to import from."""
        folder = Path(tempfile.mkdtemp(prefix="grader-staff-"))
        for name, data in self._saved.items():
            if COMPILED not in Path(name).parts:
                _write(folder / name, data)
        return folder

    def changes_in(self, copy: Path) -> list[str]:
        """The staff files a sandbox changed, removed or added (in grader/) in its
        private ``copy``; what it wrote is kept aside under .restored/ as for the
        project's own files."""
        changed = []
        for name, digest in self._digests.items():
            if COMPILED in Path(name).parts:
                continue
            path = copy / name
            try:
                intact = _digest(path.read_bytes()) == digest
            except OSError:
                intact = False
            if not intact:
                self._keep_aside(path, name)
                changed.append(name)
        for path in self.paths(copy):
            name = path.relative_to(copy).as_posix()
            if name not in self._saved and COMPILED not in path.parts \
                    and Path(name).parts[0] == "grader":
                self._keep_aside(path, name)
                changed.append(name)
        return changed


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".restoring")
    partial.write_bytes(data)
    os.replace(partial, path)
