"""Student code as an unprivileged user: ``--sandbox-user NAME`` (judge side).

Without it, student code runs as whoever runs the autograder, and the judge's
defences are the in-memory labels and ``StaffFiles`` restoring what changed. With
it, when the judge runs as root (Gradescope's container, an instructor's bulk run),
the operating system keeps student code away from the answers:

- the sandbox imports the staff code from a root-owned copy it cannot write
  (``code/``), whose ``data/`` holds *public* copies of the graded files: the test
  labels there are blanked (MNIST's test half, the language test words), so nothing
  the sandbox can open holds them;
- each question runs in a job folder of its own, owned by the user, inside a root
  folder that cannot be listed; the student's ``.py`` files are copied into it
  (regular files only: a symlink could point at the answers);
- the judge refuses to start (exit 2) when the user could read the judge's label
  files or write its staff files, or cannot run the autograder's Python;
- processes that student code detaches from its process group are killed after
  each question (grader/judge/strays.py), here those of the user only.

The public tree (``PublicTree``) also serves bubblewrap (grader/judge/bubblewrap.py),
which needs no root and runs it as the judge's own user; grader/judge/confinement.py
chooses between them.

Permission checks read mode bits and groups; they do not evaluate ACLs.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader import assignments
from grader.core.table import DataFile
from grader.judge.data import JudgeData
from grader.judge.staff_files import ROOT_FILES, StaffFiles
from grader.judge.submitted import STUDENT_FILE_LIMIT

CODE_FOLDERS = ("grader",)


def copy_student_files(job_dir: Path, student_dir: Path) -> Path:
    """Copy the submission's own files (its ``.py`` files but the staff ones) into
    ``job_dir/student``: the folder its code then works in, writable like the
    student's own, while the submission itself stays as it was handed in."""
    copy = job_dir / "student"
    copy.mkdir()
    for path in sorted(student_dir.glob("*.py")):
        if (path.name not in ROOT_FILES and not path.is_symlink() and path.is_file()
                and path.stat().st_size <= STUDENT_FILE_LIMIT):
            shutil.copyfile(path, copy / path.name)
    return copy


class IsolationError(Exception):
    """The sandbox user cannot be used as asked; the message says what to fix."""


@dataclass(frozen=True)
class SandboxAccount:
    name: str
    uid: int
    gid: int
    groups: frozenset[int]


def effective() -> bool:
    """True where ``--sandbox-user`` can take effect: a POSIX judge running as root."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def account(name: str) -> SandboxAccount:
    """The account called ``name``; IsolationError if it is missing or is root."""
    import pwd
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise IsolationError(
            f"there is no user {name!r} on this machine; create one for student code (e.g. "
            f"`useradd --no-create-home --shell /usr/sbin/nologin {name}`) or leave out "
            "--sandbox-user") from None
    if entry.pw_uid == 0:
        raise IsolationError(f"--sandbox-user {name} is root: name an unprivileged user")
    return SandboxAccount(name, entry.pw_uid, entry.pw_gid,
                          frozenset(os.getgrouplist(name, entry.pw_gid)))


def can_access(user: SandboxAccount, path: Path, write: bool = False) -> bool:
    """Whether ``user`` may read (or write) ``path``, by mode bits: every folder on
    the way must be searchable, and the path itself readable (writable)."""
    path = Path(os.path.abspath(path))
    for folder in reversed(path.parents):
        if not _allowed(user, folder, stat.S_IXUSR):
            return False
    return _allowed(user, path, stat.S_IWUSR if write else stat.S_IRUSR)


def _allowed(user: SandboxAccount, path: Path, owner_bit: int) -> bool:
    try:
        info = path.stat()
    except OSError:
        return False
    if info.st_uid == user.uid:
        return bool(info.st_mode & owner_bit)
    if info.st_gid in user.groups:
        return bool(info.st_mode & (owner_bit >> 3))
    return bool(info.st_mode & (owner_bit >> 6))


def exposed(user: SandboxAccount, project_root: Path,
            graded: tuple[DataFile, ...]) -> list[str]:
    """What ``user`` could reach in the judge's project: the ``graded`` label files it
    can read, staff files or folders it can write. Empty when the project is safe."""
    problems = [f"it can read {project_root / 'data' / file.name} (the test labels)"
                for file in graded if can_access(user, project_root / "data" / file.name)]
    staff = StaffFiles.paths(project_root)
    folders = sorted({project_root, *(path.parent for path in staff)})
    writable = [path for path in folders + staff if can_access(user, path, write=True)]
    if writable:
        shown = ", ".join(str(path) for path in writable[:3])
        more = f" and {len(writable) - 3} more" if len(writable) > 3 else ""
        problems.append(f"it can write {shown}{more}")
    return problems


def public_data(file: DataFile, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays of graded ``file`` with the labels the judge scores (its
    ``withheld`` arrays or rows) blanked."""
    arrays = dict(arrays)
    for withheld in file.withheld:
        labels = arrays[withheld.array].copy()
        labels[withheld.rows if withheld.rows is not None else slice(None)] = withheld.blank
        arrays[withheld.array] = labels
    return arrays


class PublicTree:
    """The public copy of the staff code that sandboxes import, in a private
    temporary folder: the grader, the support modules and every data file, with the
    labels the judge scores blanked in the graded ones. ``code`` is the copy's
    project folder; ``job_folder()`` gives each question a folder beside it."""

    def __init__(self, project_root: Path, data: JudgeData, shared: bool):
        """``shared``: other users (the sandbox user) read the copy, so it is
        world-readable and its base searchable; otherwise it is ours alone."""
        self.base = Path(tempfile.mkdtemp(prefix="grader-isolated-"))
        self._mode = (0o755, 0o644) if shared else (0o700, 0o600)
        try:
            # searchable, not listable: job names stay secret
            os.chmod(self.base, 0o711 if shared else 0o700)
            self.code = self.base / "code"
            self._write(project_root, data)
        except BaseException:
            self.close()
            raise

    def _write(self, project_root: Path, data: JudgeData) -> None:
        files = {name: project_root / name for name in ROOT_FILES
                 if (project_root / name).is_file()}
        for folder in CODE_FOLDERS:
            files.update({path.relative_to(project_root).as_posix(): path
                          for path in (project_root / folder).rglob("*.py")
                          if "__pycache__" not in path.parts})
        graded = set(assignments.data_files())   # any assignment's: none is copied as it is
        data_folder = project_root / "data"      # an assignment may ship no data
        files.update({f"data/{path.name}": path for path in (
            data_folder.iterdir() if data_folder.is_dir() else ()) if path.is_file()
            and path.name not in graded})
        for name, source in files.items():
            self._write_public(name, source.read_bytes())
        for file in data.files:
            buffer = io.BytesIO()
            np.savez(buffer, **public_data(file, data.as_read(file.name)))
            self._write_public(f"data/{file.name}", buffer.getvalue())

    def _write_public(self, name: str, content: bytes) -> None:
        folder_mode, file_mode = self._mode
        target = self.code / name
        for folder in reversed(target.relative_to(self.base).parents):
            (self.base / folder).mkdir(mode=folder_mode, exist_ok=True)
            os.chmod(self.base / folder, folder_mode)
        target.write_bytes(content)
        os.chmod(target, file_mode)

    @contextlib.contextmanager
    def job_folder(self, owner: SandboxAccount | None = None):
        """A fresh folder for one question (owned by ``owner`` when given), removed
        afterwards."""
        folder = self.base / secrets.token_hex(16)
        folder.mkdir(mode=0o700)
        if owner is not None:
            os.chown(folder, owner.uid, owner.gid)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


class Isolation:
    """Student code as the sandbox user: the public code tree, readable by the user,
    and the job folders of one autograder run.

    Build it before grading (it raises IsolationError when the account cannot be
    used safely) and ``close()`` it at the end."""

    def __init__(self, user: SandboxAccount, project_root: Path, data: JudgeData):
        problems = exposed(user, project_root, data.files)
        if problems:
            raise IsolationError(
                f"student code would run as {user.name}, but " + "; ".join(problems) + ". "
                f"Make the project folder private to root (`chmod -R go-rwx {project_root}`) "
                "and grade again")
        self.user = user
        self.tree = PublicTree(project_root, data, shared=True)
        self.base, self.code = self.tree.base, self.tree.code
        try:
            self._check_python()
        except BaseException:
            self.close()
            raise

    def _check_python(self) -> None:
        """Start the sandbox's imports as the user once, so that a Python the user
        cannot run is the instructor's set-up message, not every student's zero."""
        probe = ("import sys; sys.path[0] = {root!r}; import numpy, torch, backend, "
                 "grader.sandbox.main").format(root=str(self.code))
        advice = (f"Make the Python environment readable and its folders searchable by "
                  f"{self.user.name} (e.g. `chmod o+x` on each folder above {sys.executable} "
                  "and its packages) and grade again")
        try:
            process = subprocess.run([sys.executable, "-c", probe], cwd=self.code,
                                     env=self.env(self.base), capture_output=True, text=True,
                                     timeout=300, **self.popen())
        except (OSError, subprocess.SubprocessError) as error:
            raise IsolationError(f"user {self.user.name} cannot run this autograder's Python "
                                 f"({error}). {advice}") from None
        if process.returncode != 0:
            tail = "\n".join((process.stderr or process.stdout).strip().splitlines()[-4:])
            raise IsolationError(f"user {self.user.name} cannot run this autograder's Python "
                                 f"({sys.executable}):\n{tail}\n{advice}")

    # -- one question -------------------------------------------------------------
    def job_folder(self):
        """A fresh folder for one question, owned by the user, removed afterwards."""
        return self.tree.job_folder(self.user)

    def copy_student_files(self, job_dir: Path, student_dir: Path) -> Path:
        """Copy the student's files into ``job_dir/student``, owned by the user."""
        copy = copy_student_files(job_dir, student_dir)
        for path in (copy, *copy.iterdir()):
            os.chown(path, self.user.uid, self.user.gid)
        return copy

    def env(self, home: Path) -> dict:
        return {"HOME": str(home), "USER": self.user.name, "LOGNAME": self.user.name,
                "MPLCONFIGDIR": str(home / ".matplotlib"), "TMPDIR": str(home)}

    def popen(self) -> dict:
        return {"user": self.user.uid, "group": self.user.gid, "extra_groups": [],
                "umask": 0o077}

    def close(self) -> None:
        self.tree.close()
