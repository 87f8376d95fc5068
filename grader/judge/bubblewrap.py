"""Each question's sandbox inside bubblewrap: ``--isolation bwrap`` (judge side).

bubblewrap (``bwrap``, Debian's package ``bubblewrap``, the sandbox of Flatpak) starts
a process in Linux namespaces of its own, without root and without a daemon. Inside
it the sandbox sees a file system built for it:

- the system's programs and libraries (``/usr``, ``/etc`` and the links beside them)
  and the Python environment (its prefixes and the folders on its ``sys.path``),
  read-only;
- the public copy of the staff code, whose data has the scored labels blanked
  (``isolation.PublicTree``), read-only;
- its job folder, writable (the judge reads what the sandbox writes there), which is
  also its home and holds a copy of the submission's files, its working folder: the
  code may write there as in the student's own folder, and the submission itself is
  not there to change; a private, empty ``/tmp``; a fresh ``/proc`` and a minimal
  ``/dev`` (with the GPU's devices, where there are any).

Every other path is absent: the instructor's home folder, the real grader folder and
its data are not there to be read. It has no network but its own loopback
(``--unshare-net``), its own process-id namespace (when the sandbox ends, every
process it started ends with it, daemons included), a session of its own
(``--new-session``) and it ends with the judge (``--die-with-parent``). Each path is
bound at the path it has outside, so the job file, tracebacks and the student's
file names read the same with and without bubblewrap.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

BINARY = "bwrap"
SYSTEM_FOLDERS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
NAMESPACES = ("--unshare-all", "--die-with-parent", "--new-session")
TRIAL_SECONDS = 60
INSTALL_ADVICE = "install bubblewrap (`apt-get install bubblewrap`, or your system's package)"


class BubblewrapError(Exception):
    """bubblewrap is missing or cannot start a sandbox here; the message says why."""


def find() -> str | None:
    """The path of the ``bwrap`` program (Linux only), or None."""
    if not sys.platform.startswith("linux"):
        return None
    return shutil.which(BINARY)


class Bubblewrap:
    """Builds the ``bwrap`` command line of each question's sandbox."""

    def __init__(self, binary: str, project_root: Path):
        self.binary = binary
        self.project_root = Path(project_root).resolve()
        self.python = python_paths(self.project_root)

    def command(self, inner: list[str], *, code: Path, job_dir: Path, student_dir: Path,
                display: bool = False) -> list[str]:
        """``inner`` (the sandbox's command) inside bubblewrap: ``code`` (the public
        staff copy) read-only, ``job_dir`` writable, started in ``student_dir`` (the
        working copy inside ``job_dir``), and with ``display`` the X server's sockets
        for live plots."""
        options = [self.binary, *NAMESPACES]
        for folder in SYSTEM_FOLDERS:
            if os.path.islink(folder):
                options += ["--symlink", os.readlink(folder), folder]
            elif os.path.isdir(folder):
                options += ["--ro-bind", folder, folder]
        options += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        for device in sorted(glob.glob("/dev/nvidia*")):    # students may train on a GPU
            options += ["--dev-bind-try", device, device]
        binds = [(path, "--ro-bind") for path in self.python]
        binds += [(Path(code), "--ro-bind"), (Path(job_dir), "--bind")]
        if Path(job_dir) not in (Path(student_dir), *Path(student_dir).parents):
            binds.append((Path(student_dir), "--ro-bind"))
        if display and os.path.isdir("/tmp/.X11-unix"):
            binds.append((Path("/tmp/.X11-unix"), "--ro-bind"))
            if os.path.isfile(os.environ.get("XAUTHORITY", "")):
                binds.append((Path(os.environ["XAUTHORITY"]), "--ro-bind"))
        # Parents first: a folder bound later inside another one stays visible.
        for path, how in sorted(binds, key=lambda bind: len(bind[0].parts)):
            options += [how, str(path), str(path)]
        return options + ["--chdir", str(student_dir), "--", *inner]

    def check(self, code: Path, folder: Path, env: dict, popen: dict) -> None:
        """Start this autograder's Python in a sandbox like a question's, once, so
        that a bubblewrap that cannot run here (no user namespaces in a container, a
        Python it cannot see) is the instructor's message, not every student's zero.
        Raises BubblewrapError saying why."""
        command = self.command([sys.executable, "-c", "import numpy"], code=code,
                               job_dir=folder, student_dir=folder)
        try:
            process = subprocess.run(command, cwd=folder, env=env, capture_output=True,
                                     text=True, timeout=TRIAL_SECONDS,
                                     stdin=subprocess.DEVNULL, **popen)
        except (OSError, subprocess.SubprocessError) as error:
            raise BubblewrapError(f"{self.binary} could not be started ({error})") from None
        if process.returncode != 0:
            tail = " ".join((process.stderr or process.stdout).strip().splitlines()[-3:])
            raise BubblewrapError(f"{self.binary} could not start a sandbox here (exit status "
                                  f"{process.returncode}: {tail or 'no message'})")


def python_paths(project_root: Path) -> list[Path]:
    """The folders of this Python environment that a sandbox must see: its prefixes,
    the folder of the interpreter it runs, and each folder on ``sys.path`` (site
    packages, ``.pth`` additions) outside the project and outside the system folders
    bound as a whole. Real paths are added beside links, so both resolve."""
    prefixes = {Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                  sys.base_exec_prefix)}
    wanted = set(prefixes)
    wanted.add(Path(os.path.realpath(sys.executable)).parent)
    for entry in sys.path:
        if not entry or not os.path.exists(entry):
            continue
        path = Path(os.path.abspath(entry))
        inside_project = path == project_root or project_root in path.parents
        if inside_project and not any(p == path or p in path.parents for p in prefixes):
            continue
        wanted.add(path)
    wanted |= {Path(os.path.realpath(path)) for path in wanted}
    system = [Path(folder) for folder in SYSTEM_FOLDERS if os.path.isdir(folder)]
    kept = []
    for path in sorted(wanted, key=lambda p: len(p.parts)):
        covered = [*system, *kept]
        if path == Path("/") or any(path == above or above in path.parents for above in covered):
            continue
        if path.exists():
            kept.append(path)
    return kept
