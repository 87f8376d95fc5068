"""Operating-system specifics of the sandbox, kept small and in one place.

Linux has everything the grader wants: process groups (a hang or a DataLoader
worker is killed with the whole group), /proc for the group's memory use, and
RLIMIT_AS. macOS has process groups but no /proc and an unenforced RLIMIT_AS;
Windows has neither signals nor resource limits. ``limitations()`` says which
protections are missing so the grader can print it once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


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


def group_memory_mb(pgid: int) -> float | None:
    """Resident memory of all processes in a process group, in MB (Linux only;
    None where it cannot be measured)."""
    if not sys.platform.startswith("linux"):
        return None
    total_pages = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) != pgid:            # field 5 of stat: the process group
                continue
            with open(f"/proc/{entry}/statm", "rb") as statm:
                total_pages += int(statm.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue                              # the process ended meanwhile
    return total_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


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
        missing.append("a sandbox still running when the autograder is killed outright "
                       "(kill -9) runs on until its code ends; Ctrl-C and SIGTERM stop it")
    if os.name != "posix":
        missing.append("processes started by student code (e.g. DataLoader workers) "
                       "may outlive a question that is stopped")
        missing.append("sanity checks share their question's time limit")
    return missing
