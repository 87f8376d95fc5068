"""The warm start: one process per run that has imported numpy, torch and the
sandbox's own modules, and forks each question's sandbox from there (Linux, with
``--isolation none`` or ``user``; grader/judge/warm_start.py is the judge's side).

The judge starts it like a sandbox (the same interpreter, environment and copy of
the grader code), from its main thread, with

    python -c WARM_BOOTSTRAP CONTROL_FD

It imports what every sandbox imports before it reads a job, and nothing of a
question, a submission or the judge's data; then it waits on CONTROL_FD (a Unix
socket) for requests. Each request names one question's job folder, working folder,
environment and user, and carries two descriptors: where the question's output goes
and where its end is reported. The fork then becomes exactly what a fresh sandbox
is: a session and process group of its own, that output, that folder and
environment, the sandbox user when one is given, and ``main(job_dir)``, which sets
the limits and the death signal (tied to this process, itself tied to the judge).

This process keeps nothing of a question: each fork starts from the same state, the
one it had before the first. It reaps each fork and writes one line to that fork's
report descriptor: its exit status and the CPU time it and its collected children
used. It ends when the judge closes the control socket, or dies with the judge.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import traceback

from grader.core.lifetime import FORK_FAILED

MAX_REQUEST = 1 << 20        # bytes of one request (a job's environment and folders)


def serve(control_fd: int) -> None:
    from grader.core import lifetime
    lifetime.die_with_parent(signal.SIGKILL)     # a child of the judge's main thread
    # What every sandbox imports before it reads its job (grader/sandbox/main.py).
    import numpy  # noqa: F401
    import torch  # noqa: F401
    import grader.sandbox.main  # noqa: F401

    control = socket.socket(fileno=control_fd)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    control.sendall(json.dumps({"ready": os.getpid()}).encode())
    forks: dict[int, int] = {}        # the forks still running: pid -> report descriptor
    while True:
        readable, _, _ = select.select([control, wake_read], [], [])
        if wake_read in readable:
            os.read(wake_read, 4096)
        _reap(forks)
        if control in readable:
            try:
                message, fds, _, _ = socket.recv_fds(control, MAX_REQUEST, 2)
            except OSError:
                message, fds = b"", []
            if not message:               # the judge has finished (or is gone)
                break
            reply = _fork(message, fds, forks)
            for fd in fds:
                if fd not in forks.values():
                    os.close(fd)
            control.sendall(json.dumps(reply).encode())
    for pid in forks:     # the judge ended without waiting for these: end them too
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(0)


def _fork(message: bytes, fds: list[int], forks: dict) -> dict:
    try:
        request = json.loads(message)
        output, report = fds
    except (ValueError, TypeError):
        return {"error": "a malformed request"}
    try:
        pid = os.fork()
    except OSError as error:
        return {"error": f"fork: {error}"}
    if pid == 0:
        _become_sandbox(request, output)
    forks[pid] = report
    return {"pid": pid}


def _become_sandbox(request: dict, output: int) -> None:
    """In the fork: take on the question's session, output, user, folder and
    environment, as a fresh sandbox would have them, then run it. Never returns."""
    code = FORK_FAILED
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))   # as a fresh sandbox: 0, 1 and 2 only
        user = request.get("user")
        if user is not None:
            os.setgroups([])
            os.setgid(user["gid"])
            os.setuid(user["uid"])
            os.umask(user["umask"])
            _dumpable()     # as after exec: a change of user alone leaves it root's
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["GRADER_PARENT_PID"] = str(os.getppid())   # this fork's parent
        sys.argv = ["-c", request["job_dir"]]
        _relocate(sys.path[0], request["root"])
        from grader.sandbox.main import main
    except BaseException:  # noqa: B036 - ours: the judge starts this question afresh
        try:
            sys.stderr.write("the warm start could not start this question's sandbox:\n"
                             + traceback.format_exc())
            sys.stderr.flush()
        finally:
            os._exit(code)
    try:          # as in a fresh sandbox: main() ends the process itself
        main(request["job_dir"])
    except SystemExit as stop:
        _exit_as_python_does(stop)
    except BaseException:  # noqa: B036 - never back into the warm process's loop
        traceback.print_exc()
    sys.stderr.flush()
    os._exit(1)


def _exit_as_python_does(stop: SystemExit) -> None:
    code = stop.code
    if code is None or isinstance(code, int):
        os._exit(code or 0)
    print(code, file=sys.stderr, flush=True)
    os._exit(1)


def _dumpable() -> None:
    """Make this process its user's again in /proc (``PR_SET_DUMPABLE``), as a fresh
    sandbox started as that user is: the kernel marks a process that changed its user
    without exec as not dumpable, which would hide its /proc files from itself."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(4, 1, 0, 0, 0)     # PR_SET_DUMPABLE


def _relocate(old: str, new: str) -> None:
    """Make the question's own copy of the grader code (``new``) the one it imports
    from, as a fresh sandbox started there would: the modules imported here come from
    ``old``, a copy of the same files; they, and every package's search path, are
    pointed at ``new``, so that any module imported from now on is read there."""
    sys.path[0] = new
    if old == new:
        return

    def moved(path):
        if isinstance(path, str) and (path == old or path.startswith(old + os.sep)):
            return new + path[len(old):]
        return path

    for module in list(sys.modules.values()):
        spec = getattr(module, "__spec__", None)
        if spec is None or moved(spec.origin) == spec.origin:
            continue                          # not ours: numpy, torch, the standard library
        spec.origin = moved(spec.origin)
        if isinstance(spec.submodule_search_locations, list):
            spec.submodule_search_locations[:] = [
                moved(folder) for folder in spec.submodule_search_locations]
        search = getattr(module, "__path__", None)
        if isinstance(search, list) and search is not spec.submodule_search_locations:
            search[:] = [moved(folder) for folder in search]
        for name in ("__file__", "__cached__"):
            if isinstance(getattr(module, name, None), str):
                setattr(module, name, moved(getattr(module, name)))
    sys.path_importer_cache.clear()


def _reap(forks: dict[int, int]) -> None:
    """Collect every fork that ended and report it on its descriptor."""
    for pid in list(forks):
        try:
            ended, status, usage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:
            ended, status, usage = pid, None, None
        if ended == 0:
            continue
        report = forks.pop(pid)
        line = {"returncode": None if status is None else _returncode(status),
                "cpu": None if usage is None else usage.ru_utime + usage.ru_stime}
        try:
            os.write(report, (json.dumps(line) + "\n").encode())
        except OSError:
            pass
        os.close(report)


def _returncode(status: int) -> int:
    """As subprocess gives it: the exit code, or minus the signal that ended it."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
