"""Each question's sandbox inside bubblewrap: ``--isolation bwrap`` (judge side).

bubblewrap (``bwrap``, Debian's package ``bubblewrap``, the sandbox of Flatpak) starts
a process in Linux namespaces of its own, without root and without a daemon. Inside
it the sandbox sees a file system built for it:

- the system's programs and libraries (``/usr``, ``/etc`` and the links beside them)
  and the Python environment (its prefixes and the folders on its ``sys.path``),
  read-only;
- the public copy of the staff code, whose data has the scored labels blanked
  (``isolation.PublicTree``), read-only;
- the submission's folder, read-only (when it holds the real project, as when a
  student grades their own folder, the public ``grader/`` and ``data/`` are laid over
  the real ones);
- its job folder, writable (the judge reads what the sandbox writes there), which is
  also its home; a private, empty ``/tmp``; a fresh ``/proc`` and a minimal ``/dev``
  (with the GPU's devices, where there are any).

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

from grader.judge.staff_files import FOLDERS, KEPT_ASIDE

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
        staff copy) and ``student_dir`` read-only, ``job_dir`` writable, and with
        ``display`` the X server's sockets for live plots."""
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
        binds += [(Path(code), "--ro-bind"), (Path(job_dir), "--bind"),
                  (Path(student_dir), "--ro-bind")]
        binds += self._hidden_in(Path(student_dir), Path(code))
        if display and os.path.isdir("/tmp/.X11-unix"):
            binds.append((Path("/tmp/.X11-unix"), "--ro-bind"))
            if os.path.isfile(os.environ.get("XAUTHORITY", "")):
                binds.append((Path(os.environ["XAUTHORITY"]), "--ro-bind"))
        # Parents first: a folder bound later inside another one stays visible.
        for path, how in sorted(binds, key=lambda bind: len(bind[0].parts)):
            if how == "--tmpfs":
                options += ["--tmpfs", str(path)]
            elif isinstance(how, tuple):      # another folder laid over this one
                options += ["--ro-bind", str(how[1]), str(path)]
            else:
                options += [how, str(path), str(path)]
        return options + ["--chdir", str(student_dir), "--", *inner]

    def _hidden_in(self, student_dir: Path, code: Path) -> list[tuple[Path, object]]:
        """When the submission's folder holds the real project (a student grading
        their own folder), the public ``grader/`` and ``data/`` go over the real ones
        and the staff files kept aside are hidden."""
        student_dir = student_dir.resolve()
        if student_dir != self.project_root and student_dir not in self.project_root.parents:
            return []
        hidden: list[tuple[Path, object]] = [
            (self.project_root / folder, ("over", code / folder)) for folder in FOLDERS
            if (self.project_root / folder).is_dir() and (code / folder).is_dir()]
        if (self.project_root / KEPT_ASIDE).is_dir():
            hidden.append((self.project_root / KEPT_ASIDE, "--tmpfs"))
        return hidden

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
