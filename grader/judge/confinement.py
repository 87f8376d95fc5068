"""What keeps student code in its place: ``--isolation {auto,bwrap,user,none}`` (judge side).

Three protections exist, and a run uses what the machine allows:

- ``bwrap``: each question's sandbox runs inside bubblewrap (grader/judge/bubblewrap.py):
  it sees the Python environment, a public copy of the staff code with the scored
  labels blanked, and its own work folder holding a copy of the submission's files
  (it works there as in the student's folder), and nothing else; no network; every
  process it starts ends with it. Needs no root.
- ``user``: with ``--sandbox-user NAME``, when the judge runs as root, student code
  runs as that unprivileged user from the same public copy (grader/judge/isolation.py).
  Under root, bubblewrap runs as that user too: the two combine.
- ``none``: student code runs as whoever runs the autograder. The judge still keeps
  the labels in its own memory, restores any staff file that changed, and on Linux
  ends every process a question left behind (grader/judge/strays.py).

``auto`` (the default) takes bubblewrap when the ``bwrap`` program exists and a trial
sandbox starts; else the sandbox user when root and ``--sandbox-user`` is given; else
none, said once at the start with what is then not enforced and how to get it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from grader.core import lifetime
from grader.judge import bubblewrap, isolation
from grader.judge.data import JudgeData
from grader.judge.strays import Reaper

MODES = ("auto", "bwrap", "user", "none")
DEFAULT_MODE = "auto"


class ConfinementError(Exception):
    """The protection asked for cannot be had here; the message says why and what to do."""


@dataclass(frozen=True)
class PreparedJob:
    """Where and how one question's sandbox starts."""
    project_root: Path                  # the staff code it imports
    student_dir: Path                   # the student's files
    env: dict = field(default_factory=dict)      # added to the judge's environment
    popen: dict = field(default_factory=dict)    # extra Popen options (the user)
    wrap: Callable[[list[str]], list[str]] | None = None   # the command inside bwrap
    dies_with_judge: bool = False       # bwrap ends it with the judge: no parent check

    @property
    def in_bubblewrap(self) -> bool:
        return self.wrap is not None


class Confinement:
    """The protections of one autograder run, and the clean-up after each question.

    ``tree`` is the public copy of the staff code (None: each question gets a private
    copy of the real files, as without any protection), ``user`` the sandbox user's
    Isolation, ``bwrap`` the bubblewrap command builder. ``close()`` it at the end."""

    def __init__(self, mode: str, tree: isolation.PublicTree | None = None,
                 user: isolation.Isolation | None = None,
                 bwrap: bubblewrap.Bubblewrap | None = None):
        self.mode = mode
        self.tree, self.user, self.bwrap = tree, user, bwrap
        self.reaper = Reaper()
        # The warm start of the questions being graded now (grader/judge/warm_start.py):
        # set by the grader where the mode allows it, None otherwise.
        self.warm = None

    @property
    def forks_keep_guarantees(self) -> bool:
        """Whether a sandbox forked from a warm process keeps every guarantee of this
        mode: not under bubblewrap (each sandbox has namespaces of its own there)."""
        return self.bwrap is None

    @property
    def public_code(self) -> Path | None:
        """The public copy sandboxes import the staff code from (None: none is used)."""
        return self.tree.code if self.tree is not None else None

    def job_folder(self):
        """A fresh folder for one question, removed afterwards."""
        if self.user is not None:
            return self.user.job_folder()
        if self.tree is not None:
            return self.tree.job_folder()
        return tempfile.TemporaryDirectory(prefix="grader-job-")

    def prepare(self, job_dir: Path, student_dir: Path, project_root: Path,
                graphics: bool) -> PreparedJob:
        """Say how to start one question's sandbox in ``job_dir``."""
        code = self.public_code or project_root
        env, popen = {}, {}
        if self.user is not None:
            student_dir = self.user.copy_student_files(job_dir, student_dir)
            env, popen = self.user.env(job_dir), self.user.popen()
        if self.bwrap is None:
            return PreparedJob(code, student_dir, env, popen)
        if self.user is None:     # a writable working copy, as the student's own folder is
            student_dir = isolation.copy_student_files(job_dir, student_dir)
        env = dict(env, HOME=str(job_dir), TMPDIR="/tmp",
                   MPLCONFIGDIR=str(job_dir / ".matplotlib"))
        display = graphics and bool(os.environ.get("DISPLAY"))

        def wrap(command: list[str]) -> list[str]:
            return self.bwrap.command(command, code=code, job_dir=job_dir,
                                      student_dir=student_dir, display=display)
        return PreparedJob(code, student_dir, env, popen, wrap, dies_with_judge=True)

    def end_strays(self) -> int:
        """Kill what the question that just ended left behind (see strays.py)."""
        uid = self.user.user.uid if self.user is not None else None
        return self.reaper.end_strays(uid)

    def close(self) -> None:
        if self.user is not None:
            self.user.close()
        if self.tree is not None:
            self.tree.close()


def choose(mode: str, sandbox_user: str | None, project_root: Path,
           data: JudgeData) -> tuple[Confinement, list[str]]:
    """The Confinement for ``--isolation mode`` (and ``--sandbox-user``), and the notes
    to print once at the start. Raises ConfinementError (or IsolationError) when what
    was asked for cannot be had."""
    notes: list[str] = []
    if mode not in MODES:
        raise ConfinementError(f"--isolation must be one of {', '.join(MODES)}")
    if mode == "none" and sandbox_user:
        raise ConfinementError("--isolation none runs student code as you: leave out "
                               "--sandbox-user, or choose --isolation user or auto")
    account = None
    if sandbox_user:
        if isolation.effective():
            account = isolation.account(sandbox_user)
        else:
            notes.append(f"--sandbox-user {sandbox_user} takes effect only when the "
                         "autograder runs as root; your code runs as you")
    if mode == "user" and account is None:
        raise ConfinementError("--isolation user needs --sandbox-user NAME and an autograder "
                               "running as root; without root, use --isolation bwrap")
    if mode == "none":
        return Confinement("none"), notes

    user = isolation.Isolation(account, project_root, data) if account is not None else None
    try:
        if mode in ("auto", "bwrap"):
            try:
                return _with_bubblewrap(user, project_root, data), notes
            except ConfinementError as problem:
                if mode == "bwrap":
                    raise ConfinementError(f"--isolation bwrap: {problem}") from None
                why = str(problem)
        if user is not None:
            if mode == "auto":
                notes.append(f"student code runs as {user.user.name} without bubblewrap "
                             f"({why}): it cannot read the test labels or change the "
                             "grader, but it can reach the network and see the files "
                             f"that {user.user.name} may read; {_advice()} to keep each "
                             "question in a sandbox")
            return Confinement("user", user.tree, user), notes
    except BaseException:
        if user is not None:
            user.close()
        raise
    notes.append(not_enforced(why))
    return Confinement("none"), notes


def _with_bubblewrap(user: isolation.Isolation | None, project_root: Path,
                     data: JudgeData) -> Confinement:
    binary = bubblewrap.find()
    if binary is None:
        raise ConfinementError("bubblewrap exists only on Linux"
                               if not sys.platform.startswith("linux")
                               else "bubblewrap (the program `bwrap`) is not installed")
    tree = user.tree if user is not None else isolation.PublicTree(project_root, data,
                                                                   shared=False)
    try:
        bwrap = bubblewrap.Bubblewrap(binary, project_root)
        env = lifetime.without_parent(dict(os.environ))
        with tree.job_folder(user.user if user is not None else None) as folder:
            bwrap.check(tree.code, Path(folder), env, user.popen() if user else {})
    except bubblewrap.BubblewrapError as problem:
        if user is None:
            tree.close()
        raise ConfinementError(str(problem)) from None
    except BaseException:
        if user is None:
            tree.close()
        raise
    return Confinement("bwrap", tree, user, bwrap)


def _advice() -> str:
    if sys.platform.startswith("linux"):
        return bubblewrap.INSTALL_ADVICE
    return "grade on Linux with bubblewrap installed"


def not_enforced(why: str) -> str:
    """The note of a run without any protection: what is then not enforced."""
    ends = ("processes it leaves behind are still ended after each question"
            if sys.platform.startswith("linux") else
            "processes it detaches may outlive their question")
    return (f"student code runs as you, unconfined ({why}): it could read any file you "
            f"can (the test labels in data/, your home folder) and reach the network; "
            f"{ends}. To keep each question in a sandbox, {_advice()}")
