"""``OUT/.work``: what a bulk run keeps while it runs, one folder per run.

A run unpacks zips, makes its read-only copy of the staff files, and gives each
``autograder.py`` it starts a folder, all under ``OUT/.work/run-XXXX/``. Two locks tell
live from dead (``grader/core/lifetime.py``):

- ``OUT/.work/bulk.lock`` is held by the bulk process while it runs, so a second run on
  the same OUT refuses instead of grading into the same files;
- ``run-XXXX/alive.lock`` is held by the run *and every child it starts* (the file is
  passed to them), so a folder whose lock is free belongs to a run of which no process
  is left. Those folders are deleted when a run starts and when it ends; a folder still
  locked (the children of a run killed a moment ago, still ending) is left for later.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path

from grader.core.lifetime import FileLock, held_by_someone

RUN_LOCK = "bulk.lock"
ALIVE = "alive.lock"


class Busy(Exception):
    """Another bulk run is writing to the same OUT."""


class WorkFolder:
    """This run's folder under ``OUT/.work`` (``folder``), made when the run may start."""

    def __init__(self, out: Path):
        self.root = out / ".work"
        self.root.mkdir(parents=True, exist_ok=True)
        self.leftovers: list[str] = []     # what could not be deleted, said at the end
        self._run_lock = FileLock(self.root / RUN_LOCK)
        if not self._run_lock.acquire():
            holder = (self.root / RUN_LOCK).read_text(encoding="utf-8", errors="replace")
            raise Busy(f"another bulk run ({holder.strip() or 'process unknown'}) is grading "
                       f"into {out}; wait for it to finish (or stop it), then run this "
                       "command again, or give this one another --out")
        self._run_lock.write(f"process {os.getpid()}, started "
                             f"{time.strftime('%Y-%m-%d %H:%M:%S')}")
        self.remove_stale()
        self.folder = Path(tempfile.mkdtemp(prefix="run-", dir=self.root))
        self._alive = FileLock(self.folder / ALIVE)
        self._alive.acquire()
        (self.folder / "jobs").mkdir()

    @property
    def jobs(self) -> Path:
        """Where each ``autograder.py`` this run starts gets a temporary folder."""
        return self.folder / "jobs"

    @property
    def inherited_fds(self) -> tuple[int, ...]:
        """File descriptors every child must keep open (``pass_fds``): its run's lock."""
        return (self._alive.fd,) if self._alive.fd is not None else ()

    def remove_stale(self) -> None:
        """Delete the folders of earlier runs none of whose processes is left."""
        for entry in sorted(self.root.iterdir()):
            if entry.name == RUN_LOCK or entry == getattr(self, "folder", None):
                continue
            if entry.is_dir() and held_by_someone(entry / ALIVE):
                continue        # a killed run's children are still ending
            self.leftovers += remove_tree(entry)

    def close(self) -> list[str]:
        """Delete this run's folder (and any stale one), let the next run start; returns
        what could not be deleted, as messages."""
        self._alive.release()
        self.leftovers += remove_tree(self.folder)
        self.remove_stale()
        self._run_lock.release()
        return self.leftovers


def read_only_staff_copy(destination: Path, project_root: Path, root_files, folders) -> Path:
    """Copy the staff files to ``destination`` and make them read-only, so that
    student code (run as the same, non-root user) cannot change what the next
    submission is graded with. The judge still checks and restores them."""
    destination.mkdir(parents=True)
    for name in root_files:
        shutil.copy2(project_root / name, destination / name)
    for folder in folders:
        shutil.copytree(project_root / folder, destination / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for path in sorted(destination.rglob("*"), reverse=True) + [destination]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return destination


def remove_tree(path: Path) -> list[str]:
    """Delete ``path`` (a file, or a tree made read-only by ``read_only_staff_copy``);
    returns one message per thing that could not be deleted (none when all went)."""
    if not path.exists() and not path.is_symlink():
        return []
    if path.is_file() or path.is_symlink():
        try:
            path.unlink()
        except OSError as error:
            return [f"{path}: {error.strerror or error}"]
        return []
    problems: list[str] = []
    for item in [path, *path.rglob("*")]:
        if item.is_dir() and not item.is_symlink():
            try:
                item.chmod(item.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR)
            except OSError:
                pass        # reported below if it then cannot be deleted

    def failed(function, name, error):
        error = error[1] if isinstance(error, tuple) else error
        if not isinstance(error, FileNotFoundError):   # gone already: fine
            problems.append(f"{name}: {getattr(error, 'strerror', None) or error}")

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=failed)
    else:
        shutil.rmtree(path, onerror=failed)
    return problems
