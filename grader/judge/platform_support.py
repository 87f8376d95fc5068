"""Operating-system specifics of the sandbox, kept small and in one place.

Linux has everything the grader wants: process groups (a hang or a DataLoader
worker is killed with the whole group), /proc for the group's memory and CPU use,
and RLIMIT_AS. macOS has process groups but no /proc and an unenforced RLIMIT_AS;
Windows has neither signals nor resource limits. ``limitations()`` says which
protections are missing so the grader can print it once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

from grader.judge.strays import descendants

SANDBOX_MARK = b"grader.sandbox.main"    # in the command line of the sandbox's Python


def new_process_group() -> dict:
    """Popen keyword arguments that put the child in a process group of its own."""
    if os.name == "posix":
        return {"start_new_session": True}
    return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}


def kill_group(process: subprocess.Popen) -> None:
    """Kill the child and everything in its process group (POSIX), or the child
    alone (Windows)."""
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    elif process.poll() is None:
        process.kill()


def ask_for_traceback(process: subprocess.Popen) -> None:
    """Ask the sandbox to write where it is (faulthandler on SIGUSR1), before it is
    stopped, so the message can name the student's line. POSIX only."""
    if hasattr(signal, "SIGUSR1") and process.poll() is None:
        try:
            os.kill(process.pid, signal.SIGUSR1)
        except (ProcessLookupError, PermissionError):
            return
        try:
            process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass


def group_members(pgid: int) -> list[int] | None:
    """The processes of a process group (Linux's /proc; None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    members = []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) == pgid:            # field 5 of stat: the process group
                members.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue                              # the process ended meanwhile
    return members


def group_memory_mb(pgid: int) -> float | None:
    """Resident memory of all processes in a process group, in MB (Linux only;
    None where it cannot be measured)."""
    members = group_members(pgid)
    return None if members is None else memory_mb(members)


def memory_mb(pids: list[int]) -> float:
    """Resident memory of these processes together, in MB (Linux's /proc)."""
    total_pages = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                total_pages += int(statm.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue                              # the process ended meanwhile
    return total_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_seconds(pids: list[int]) -> float:
    """CPU time these processes have used, user and system, with that of their
    children that have ended and were collected (so a DataLoader worker that
    exited still counts, in its parent's figures). Linux's /proc; a process that
    ended meanwhile is left out."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            # fields 14-17 of stat: utime, stime, cutime, cstime (in clock ticks)
            ticks += sum(int(value) for value in fields[11:15])
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def measures_cpu() -> bool:
    """Whether a sandbox's CPU time can be read (Linux's /proc)."""
    return sys.platform.startswith("linux") and os.path.isdir("/proc/self")


def usable_cores() -> int:
    """The cores this process (and so a sandbox it starts) may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def load_average() -> float | None:
    """The machine's load average over the last minute (None where unknown)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


class Sandbox:
    """One running sandbox, seen from the judge: either the sandbox's Python itself,
    in a process group of its own, or bubblewrap around it. Inside bubblewrap the
    Python and everything it starts are in other sessions and groups, and a process-id
    namespace of their own: they are found as descendants of the ``bwrap`` process."""

    def __init__(self, process: subprocess.Popen, in_bubblewrap: bool):
        self.process, self.in_bubblewrap = process, in_bubblewrap
        self.pid, self.stdout = process.pid, process.stdout

    def wait(self) -> None:
        """Collect the ended sandbox (its exit status is then ours to read)."""
        self.process.wait()

    def processes(self) -> list[int] | None:
        """The sandbox and every process it started (None where they cannot be
        listed: without Linux's /proc)."""
        if not self.in_bubblewrap:
            return group_members(self.process.pid)
        return [self.process.pid, *descendants(self.process.pid)]

    def has_ended(self) -> bool:
        """Whether the sandbox's process has ended. Where possible it is left
        uncollected (a zombie), so that its CPU time can still be read once more."""
        if hasattr(os, "waitid") and self.process.returncode is None:
            try:
                return os.waitid(os.P_PID, self.process.pid,
                                 os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
            except ChildProcessError:
                pass          # already collected
        return self.process.poll() is not None

    def memory_mb(self) -> float | None:
        """Resident memory of the sandbox and every process it started, in MB."""
        members = self.processes()
        return None if members is None else memory_mb(members)

    def usage(self) -> tuple[float | None, float | None]:
        """(resident memory in MB, CPU seconds used) of the sandbox and everything
        it started, from one look at the process table; (None, None) without /proc."""
        members = self.processes()
        if members is None:
            return None, None
        return memory_mb(members), cpu_seconds(members)

    def ask_for_traceback(self) -> None:
        """Ask the sandbox's Python to write where it is (faulthandler on SIGUSR1)."""
        if not self.in_bubblewrap:
            ask_for_traceback(self.process)
            return
        python = next((pid for pid in descendants(self.process.pid)
                       if is_sandbox_python(pid)), None)
        if python is None or self.process.poll() is not None:
            return
        with contextlib.suppress(OSError):
            os.kill(python, signal.SIGUSR1)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=0.5)

    def kill(self) -> None:
        """Kill the sandbox and everything it started."""
        if self.in_bubblewrap:
            # Killing bwrap ends its namespace, and with it every process inside; they
            # are killed here too, so that none runs on while that happens.
            for pid in descendants(self.process.pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        kill_group(self.process)

    def returncode(self) -> int | None:
        """The sandbox's exit status as Popen gives it: negative for a signal.
        bubblewrap reports a Python killed by signal N as exit status 128 + N."""
        code = self.process.returncode
        if self.in_bubblewrap and code is not None and 128 < code < 128 + 65:
            return -(code - 128)
        return code


def is_sandbox_python(pid: int) -> bool:
    """Whether process ``pid`` is a sandbox's Python (not the bwrap around it, whose
    command line holds the same words; Linux's /proc)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            arguments = cmdline.read().split(b"\0")
    except OSError:
        return False
    return arguments[0] == os.fsencode(sys.executable) and SANDBOX_MARK in b" ".join(arguments)


def signal_name(number: int) -> str:
    names = {getattr(signal, "SIGSEGV", None): "segmentation fault",
             getattr(signal, "SIGABRT", None): "aborted",
             getattr(signal, "SIGKILL", None): "killed, perhaps by the system for using too much memory",
             getattr(signal, "SIGBUS", None): "bus error",
             getattr(signal, "SIGFPE", None): "floating-point exception"}
    try:
        label = signal.Signals(number).name
    except ValueError:
        label = f"signal {number}"
    return f"{label}: {names[number]}" if number in names else label


def limitations() -> list[str]:
    """Protections this operating system lacks, in words (empty on Linux)."""
    missing = []
    if not sys.platform.startswith("linux"):
        missing.append("the memory limit is not enforced")
        missing.append("time limits count wall-clock time, not the CPU time your code got, "
                       "so a busy machine leaves it less time")
        missing.append("a sandbox still running when the autograder is killed outright "
                       "(kill -9) runs on until its code ends; Ctrl-C and SIGTERM stop it")
    if os.name != "posix":
        missing.append("processes started by student code (e.g. DataLoader workers) "
                       "may outlive a question that is stopped")
        missing.append("sanity checks share their question's time limit")
    return missing
