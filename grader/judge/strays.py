"""Processes that student code leaves behind, ended after each question (judge side).

A sandbox is killed with its process group when its question ends, but student code
can leave that group: ``setsid()`` and a double fork make a daemon that belongs to no
sandbox. On Linux the judge becomes a "child subreaper": such an orphan then becomes
the judge's child instead of init's, and ``Reaper.end_strays`` kills every child of
the judge that is not a sandbox still running (each kill may hand the judge that
process's own children, so it looks again until none is left). Every process a
sandbox starts is in another session than the judge's (the sandbox starts a session
of its own, and no process can join an older one), so the judge's own short-lived
helpers, which share its session, are never taken for strays. Elsewhere nothing
reparents orphans and ``end_strays`` finds nothing to do.

With ``-j N`` questions run side by side, each driven by a thread of the judge: a
sandbox is registered under the same lock that ``end_strays`` holds while it looks,
so the clean-up after one question never takes another question's sandbox, even one
that is being started at that moment, for a stray.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading

_PR_SET_CHILD_SUBREAPER = 36
ROUNDS = 20     # each round may reveal the children of the processes it killed


def become_subreaper() -> bool:
    """Orphaned descendants become this process's children (Linux); elsewhere
    nothing. True when the kernel took the request."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


class Reaper:
    """The sandboxes running now, and the clean-up of everything else below the judge."""

    def __init__(self):
        self.active = become_subreaper()
        self._running: set[int] = set()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def starting(self):
        """Hold this around starting a sandbox and ``started(pid)``: no clean-up
        looks at the judge's children meanwhile."""
        with self._lock:
            yield

    def started(self, pid: int) -> None:
        """Call within ``starting()``."""
        self._running.add(pid)

    def ended(self, pid: int) -> None:
        with self._lock:
            self._running.discard(pid)

    def end_strays(self, uid: int | None = None) -> int:
        """Kill the judge's children that are not running sandboxes (only those owned
        by ``uid`` when given) and collect them. Returns how many were killed."""
        if not self.active:
            return 0
        killed, session = 0, os.getsid(0)
        for _ in range(ROUNDS):
            with self._lock:
                strays = [pid for pid, (ppid, sid) in _table().items()
                          if ppid == os.getpid() and sid != session
                          and pid not in self._running and (uid is None or owner(pid) == uid)]
                for pid in strays:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                        killed += 1
            if not strays:
                break
            for pid in strays:
                with contextlib.suppress(OSError):
                    os.waitpid(pid, 0)
        return killed


def descendants(root: int) -> list[int]:
    """Every process below ``root``, nearest first (Linux's /proc; empty elsewhere)."""
    table = _table()
    found, frontier = [], [root]
    while frontier:
        below = [pid for pid, (ppid, _) in table.items() if ppid in frontier]
        found += below
        frontier = below
    return found


def owner(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _table() -> dict[int, tuple[int, int]]:
    """Every process's parent and session, by process id."""
    table = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as status:
                    fields = status.read().rsplit(b")", 1)[1].split()
                # fields 4 and 6 of stat: the parent and the session
                table[int(entry)] = (int(fields[1]), int(fields[3]))
            except (OSError, IndexError, ValueError):
                continue
    return table
