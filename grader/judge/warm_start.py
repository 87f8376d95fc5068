"""The warm start, judge side: sandboxes forked from a process that has already
imported torch (grader/sandbox/warm.py is the other side).

Every sandbox would otherwise start a fresh interpreter and import numpy and torch,
about 1.4 s of CPU each (benchmarks/grading_overhead.py). A run that grades several
questions starts one warm process instead, from the judge's main thread, like a
sandbox: the same interpreter, environment (``PYTHONHASHSEED``, threads) and copy of
the grader code. Each question's sandbox is then a fork of it that takes on the
question's session and process group, output, working folder, environment and, with
``--isolation user``, the sandbox user (the warm process runs as the judge, so no
sandbox can signal or trace it), and runs ``main(job_dir)`` as a fresh one does.

Only where it keeps every guarantee of docs/isolation.md: on Linux, with
``--isolation none`` or ``user``. Under bubblewrap each question keeps its own
sandbox started afresh (its own pid and mount namespaces, which a fork of a shared
process would not have). A job whose environment differs from the warm process's in
anything read at start (not its folders or user), or a warm process that is gone,
starts a fresh interpreter as before: the warm start changes the cost, never the
outcome.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from grader.core import lifetime
from grader.judge.platform_support import cpu_seconds, group_members, memory_mb

# Started like a sandbox (runner.BOOTSTRAP): the project folder first on the path.
WARM_BOOTSTRAP = (
    "import sys; sys.path[0] = {root!r}; "
    "from grader.sandbox.warm import serve; serve(int(sys.argv[1]))"
)
# What a fork sets for its own question; everything else must equal the warm
# process's environment, read once when it started.
PER_QUESTION = frozenset({"HOME", "USER", "LOGNAME", "MPLCONFIGDIR", "TMPDIR",
                          lifetime.PARENT_ENV})
READY_SECONDS = 120.0       # the imports, on a loaded machine
REPLY_SECONDS = 30.0


def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds")


class WarmStart:
    """One warm process for a run; ``spawn`` forks a question's sandbox from it."""

    def __init__(self, process: subprocess.Popen, control: socket.socket, root: Path,
                 env: dict):
        self.process, self.root, self.env = process, root, env
        self._control = control
        self._lock = threading.Lock()
        self._ready: bool | None = None     # None: not yet known
        self.pid = process.pid

    @classmethod
    def start(cls, root: Path, env: dict) -> "WarmStart | None":
        """Start the warm process (from the main thread: its death signal is tied to
        the thread that starts it). None where it is not supported."""
        if not supported() or threading.current_thread() is not threading.main_thread():
            return None
        try:
            judge_end, warm_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        except OSError:
            return None
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", WARM_BOOTSTRAP.format(root=str(root)),
                 str(warm_end.fileno())],
                cwd=root, env=lifetime.child_env(env), pass_fds=[warm_end.fileno()],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError:
            judge_end.close()
            return None
        finally:
            warm_end.close()
        judge_end.settimeout(REPLY_SECONDS)
        return cls(process, judge_end, root, env)

    def fits(self, env: dict) -> bool:
        """Whether a sandbox with this environment can be forked from here: what is
        read at start must be what the warm process started with. (Its code may be
        another copy of the same files: the fork then imports from that one.)"""
        keys = (set(env) | set(self.env)) - PER_QUESTION
        return all(env.get(key) == self.env.get(key) for key in keys)

    def ready(self) -> bool:
        """Wait until the warm process has done its imports; False if it cannot serve."""
        with self._lock:
            return self._wait_ready()

    def _wait_ready(self) -> bool:
        if self._ready is None:
            self._ready = False
            try:
                self._control.settimeout(READY_SECONDS)
                message = json.loads(self._control.recv(4096) or b"null")
                self._ready = isinstance(message, dict) and message.get("ready") == self.pid
            except (OSError, ValueError):
                pass
            finally:
                self._control.settimeout(REPLY_SECONDS)
        return self._ready

    def spawn(self, job_dir: Path, cwd: Path, env: dict, root: Path,
              user: dict | None) -> "WarmSandbox | None":
        """Fork one question's sandbox; None when the warm process cannot (the caller
        then starts a fresh one)."""
        request = json.dumps({"job_dir": str(job_dir), "cwd": str(cwd), "env": env,
                              "root": str(root), "user": user}).encode()
        with self._lock:
            if not self._wait_ready():
                return None
            output_read, output_write = os.pipe()
            report_read, report_write = os.pipe()
            try:
                socket.send_fds(self._control, [request], [output_write, report_write])
                reply = json.loads(self._control.recv(4096) or b"null")
                pid = int(reply["pid"])
            except (OSError, ValueError, TypeError, KeyError):
                self._ready = False          # it cannot serve: fresh starts from now on
                os.close(output_read)
                os.close(report_read)
                return None
            finally:
                os.close(output_write)
                os.close(report_write)
        return WarmSandbox(pid, os.fdopen(output_read, "rb"), report_read)

    def give_up(self, why: str) -> None:
        """Fork nothing more: a fork could not become its sandbox (our failure; said
        once on stderr, for a report). Sandboxes start afresh from now on."""
        with self._lock:
            self._ready = False
        print("autograder.py: the warm start failed (please report this); each question's "
              "sandbox now starts afresh:\n" + why.strip()[-2000:], file=sys.stderr)

    def close(self) -> None:
        """End the warm process (closing the socket tells it to) and collect it."""
        with contextlib.suppress(OSError):
            self._control.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class WarmSandbox:
    """A forked sandbox seen from the judge, as platform_support.Sandbox sees a fresh
    one: its process group (its own pid: it started a session), its output, and its
    end, which the warm process reports with its exit status and CPU time."""

    in_bubblewrap = False

    def __init__(self, pid: int, stdout, report_fd: int):
        self.pid, self.stdout = pid, stdout
        self._report = report_fd
        self._received = b""
        self._ended: dict | None = None

    def _read_report(self, timeout: float | None) -> None:
        if self._ended is not None:
            return
        readable, _, _ = select.select([self._report], [], [], timeout)
        if not readable:
            return
        chunk = os.read(self._report, 4096)
        if not chunk:       # the warm process is gone, and the fork died with it
            self._ended = {"returncode": -signal.SIGKILL, "cpu": None}
        self._received += chunk
        if b"\n" in self._received:
            try:
                line = json.loads(self._received.split(b"\n", 1)[0])
                self._ended = {"returncode": int(line["returncode"]),
                               "cpu": float(line["cpu"]) if line.get("cpu") is not None
                               else None}
            except (ValueError, TypeError, KeyError):
                self._ended = {"returncode": None, "cpu": None}
        if self._ended is not None:
            os.close(self._report)

    def has_ended(self) -> bool:
        self._read_report(0)
        return self._ended is not None

    def usage(self) -> tuple[float | None, float | None]:
        """(resident memory in MB, CPU seconds used) of the sandbox and everything it
        started; once it has ended and been collected, its CPU time as reported."""
        members = group_members(self.pid)
        if members is None:
            return None, None
        cpu = cpu_seconds(members)
        if self._ended is not None and self.pid not in members:
            cpu += self._ended["cpu"] or 0.0
        return memory_mb(members), cpu

    def ask_for_traceback(self) -> None:
        if self.has_ended():
            return
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGUSR1)
        self._read_report(0.5)

    def kill(self) -> None:
        """Kill the sandbox and its process group. The fork itself too while it has
        not ended: just after the fork it may not have its own group yet."""
        if self._ended is None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)

    def wait(self) -> None:
        while self._ended is None:
            self._read_report(None)

    def returncode(self) -> int | None:
        return None if self._ended is None else self._ended["returncode"]
