"""How long our processes live: a child that dies with its parent, and locks that
tell a live run from a dead one.

A process we start (a sandbox below its judge, an ``autograder.py`` below ``python -m
grader bulk``) must not outlive the process that started it, even when that one is
killed with SIGKILL and cannot clean up. On Linux the child asks the kernel for a
signal when its parent dies (``PR_SET_PDEATHSIG``). The parent may already have died
before the child asked, so the parent passes its process id in the environment and the
child compares it with ``getppid()`` right after asking. Elsewhere nothing enforces
it; ``parent_death_supported()`` says so.

The locks are advisory file locks (``flock`` on Unix, ``msvcrt.locking`` on Windows).
The kernel releases them when the last process holding the file ends, however it
ends, so a lock that can be taken belongs to a run that is over.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

PARENT_ENV = "GRADER_PARENT_PID"
# The exit status of a sandbox forked from the warm start (grader/sandbox/warm.py) that
# could not become its question's sandbox, before any student code ran: the judge then
# starts that question afresh (grader/judge/runner.py).
FORK_FAILED = 87
_PR_SET_PDEATHSIG = 1


def parent_death_supported() -> bool:
    return sys.platform.startswith("linux")


def child_env(env: dict) -> dict:
    """``env`` for a child that should call ``die_with_parent``: names this process."""
    return dict(env, **{PARENT_ENV: str(os.getpid())})


def without_parent(env: dict) -> dict:
    """``env`` for a child whose end another mechanism ties to ours (bubblewrap's
    ``--die-with-parent``): its parent is not this process, so it must not compare."""
    env = dict(env)
    env.pop(PARENT_ENV, None)
    return env


def die_with_parent(signum: int) -> bool:
    """Ask for ``signum`` when the parent named in the environment dies (the variable
    is then removed, so that our own children do not inherit it). When the parent is
    already gone, the signal is sent at once. True when the kernel took the request."""
    expected = os.environ.pop(PARENT_ENV, None)
    if expected is None or not parent_death_supported():
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if str(os.getppid()) != expected:     # it died before we asked: we were orphaned
        os.kill(os.getpid(), signum)
    return True


class FileLock:
    """An exclusive, non-blocking lock on ``path`` (created when missing). ``fd`` may be
    passed to children (``pass_fds``) so that the lock stays held while any of them
    lives."""

    def __init__(self, path):
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        """True when this process now holds the lock; False when another does."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _lock(fd):
            os.close(fd)
            return False
        self.fd = fd
        return True

    def write(self, text: str) -> None:
        """Replace the lock file's content (who holds it, for messages)."""
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, text.encode("utf-8"), 0)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)       # closing releases the lock
            self.fd = None


def held_by_someone(path) -> bool:
    """True when another process holds the lock on ``path``; a missing file is free."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        return not _lock(fd)
    finally:
        os.close(fd)      # releases it again if we took it


def _lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:         # Windows
        import msvcrt
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled where Ctrl-C is (``timeout``, Slurm, a CI cancel, ``kill``)."""


@contextlib.contextmanager
def terminate_as_interrupt():
    """Within the block, SIGTERM raises ``Terminated`` in the main thread, as Ctrl-C
    raises KeyboardInterrupt, so the same clean-up runs; the previous handler is put
    back after. Does nothing outside the main thread or without SIGTERM."""
    def raise_terminated(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, raise_terminated)
    except (AttributeError, ValueError):     # no SIGTERM, or not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
