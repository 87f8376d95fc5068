"""Shared helpers for the tests: building submissions and running the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference"
STUDENT_FILES = ("models.py", "losses.py", "train.py", "gpt_model.py")


def make_submission(folder: Path, appended: dict[str, str] | None = None,
                    base: Path = REFERENCE, omit: tuple[str, ...] = ()) -> Path:
    """Copy the four student files of ``base`` into ``folder``, then append code to
    some of them (a later ``def`` replaces an earlier one, so a few lines turn the
    reference solution into a broken submission)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in STUDENT_FILES:
        if name in omit:
            continue
        text = (base / name).read_text(encoding="utf-8")
        extra = (appended or {}).get(name)
        if extra:
            text += "\n\n" + extra.strip("\n") + "\n"
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def run_autograder(*args: str, cwd: Path = ROOT, project: Path = ROOT, timeout: float = 900):
    """Run ``autograder.py`` in a subprocess; return (completed process, parsed --json or None)."""
    json_path = None
    args = list(args)
    if "--json" in args:
        json_path = Path(args[args.index("--json") + 1])
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    process = subprocess.run([sys.executable, str(project / "autograder.py"), *args],
                             cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    results = None
    if json_path is not None and json_path.exists():
        results = json.loads(json_path.read_text(encoding="utf-8"))
    return process, results


def copy_project(destination: Path) -> Path:
    """A private copy of the course files (grader, backend, data, skeletons), for
    tests that must not touch the real project's files."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("autograder.py", "backend.py", "chargpt.py", *STUDENT_FILES):
        shutil.copy2(ROOT / name, destination / name)
    for folder in ("grader", "data"):
        shutil.copytree(ROOT / folder, destination / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def points_by_test(results: dict) -> dict[str, float]:
    return {test["name"]: test["points"] for test in results["tests"]}


def messages(results: dict, question: str) -> str:
    return "\n".join(t["message"] for t in results["tests"] if t["question"] == question)


def processes_in(folder: Path) -> list[int]:
    """PIDs of live processes whose working directory is ``folder`` (Linux): the
    sandboxes of a run whose student files are there."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/cwd") == str(folder):
                    found.append(int(entry))
            except OSError:
                continue
    return found


def solution_with(reference: Path, folder: Path, appended: dict[str, str] | None = None,
                  replaced: dict[str, tuple[str, str]] | None = None) -> Path:
    """A copy of the staff solution in ``reference`` (every .py file there) in
    ``folder``, with code appended to some files (a later ``def`` replaces an earlier
    one) or one passage replaced (``file: (old, new)``; the old text must be there)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted(reference.glob("*.py")):
        text = source.read_text(encoding="utf-8")
        old, new = (replaced or {}).get(source.name, ("", ""))
        if old:
            assert old in text, old
            text = text.replace(old, new)
        extra = (appended or {}).get(source.name, "")
        (folder / source.name).write_text(text + ("\n\n" + extra if extra else ""),
                                          encoding="utf-8")
    return folder


def grade_json(tmp_path: Path, student: Path, *args: str):
    """``run_autograder`` on ``student`` without graphics, with its JSON results; the
    run must end with exit status 0."""
    process, results = run_autograder("--student-dir", str(student), "--no-graphics",
                                      "--json", str(tmp_path / "results.json"), *args)
    assert process.returncode == 0, process.stdout + process.stderr
    return process, results


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent id, state, start time) of a process from /proc (Linux), None if gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), fields[0], int(fields[19])


def process_tree(root: int) -> set[tuple[int, int]]:
    """Every live process below ``root`` (and ``root``) as (pid, start time): the
    start time tells a process from a later one given the same id."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _stat(int(entry))) is not None:
            table[int(entry)] = info
    found, frontier = set(), [root]
    while frontier:
        pid = frontier.pop()
        if pid in table and table[pid][1] != "Z":
            found.add((pid, table[pid][2]))
            frontier += [child for child, info in table.items() if info[0] == pid]
    return found


def still_running(processes: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of ``processes`` (from ``process_tree``) that have not ended (a zombie,
    ended but not yet collected, counts as ended)."""
    left = set()
    for pid, started in processes:
        info = _stat(pid)
        if info is not None and info[2] == started and info[1] != "Z":
            left.add((pid, started))
    return left


def wait_for(predicate, seconds: float, every: float = 0.05):
    """Poll ``predicate`` until it returns something true or ``seconds`` pass; returns
    its last value (the caller asserts on it)."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(every)
