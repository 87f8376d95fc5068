"""Grading one submission on Gradescope's machine: ``run_autograder`` (written by
grader/instructor/release/gradescope_bundle.py) calls ``python -m
grader.instructor.grading.gradescope run --root /autograder`` (``run``, below).

Gradescope unpacks the bundle into ``/autograder/source`` and puts the student's
upload in ``/autograder/submission``. ``run`` finds the student files, nested folders
included, grades a copy of them with ``autograder.py --gradescope-output``, and
writes ``/autograder/results/results.json`` once, whatever happens: when the
autograder itself fails, a score of 0 that says it was our failure.

The run saves each question's figures to a temporary folder (``--save-plots``) and
embeds the key one in the results, so students see their trained model beside the
score; results.json stays under 1 MB (grader/figures/html.py).

Environment variables, for tests and for instructors who grade a subset:
``AUTOGRADER_ROOT`` (default ``/autograder``), ``AUTOGRADER_PYTHON`` (the Python
``run_autograder`` uses; default the venv's), ``GRADER_QUESTIONS`` (e.g.
``q1,q6``: grade only these, passed to autograder.py as ``-q``), ``GRADER_FIGURES``
(``0``: no figures, plain-text results), ``GRADER_SANDBOX_USER`` (the user student
code runs as; default ``student`` when run as root, empty for none) and
``GRADER_ISOLATION`` (autograder.py's ``--isolation``; default ``auto``: bubblewrap,
which setup.sh installs, as the user ``student`` where the container allows user
namespaces, else ``student`` alone, with a note in the results saying so) and
``GRADER_ATTEMPTS`` (autograder.py's ``--attempts``; default 3, ``1`` grades on the
seed alone).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader import assignments
from grader.core.parsing import load_json
from grader.core.table import LIMITS
from grader.figures.html import RESULTS_LIMIT, document_size, strip_images
from grader.instructor.intake.files import find_student_files
from grader.judge import isolation

PROJECT_ROOT = Path(__file__).resolve().parents[3]
EXIT_OK = 0

OUTPUT_TAIL = 3000  # characters of the autograder's output kept in a failure report
QUESTIONS_VARIABLE = "GRADER_QUESTIONS"
COURSE_VARIABLE = "GRADER_COURSE"
SANDBOX_USER_VARIABLE = "GRADER_SANDBOX_USER"
ISOLATION_VARIABLE = "GRADER_ISOLATION"
DEFAULT_SANDBOX_USER = "student"   # created by setup.sh
FIGURES_VARIABLE = "GRADER_FIGURES"
ATTEMPTS_VARIABLE = "GRADER_ATTEMPTS"


def attempts() -> int:
    """autograder.py's --attempts on Gradescope: $GRADER_ATTEMPTS when it is a whole
    number of at least 1, else the default (``LIMITS.default_attempts``)."""
    value = os.environ.get(ATTEMPTS_VARIABLE, "").strip()
    return int(value) if value.isdigit() and int(value) >= 1 else LIMITS.default_attempts

# ---------------------------------------------------------------- grading one submission

def submitter_names(root: Path) -> list[str]:
    """Names in Gradescope's ``submission_metadata.json``; [] if absent or unreadable."""
    try:
        metadata = load_json((root / "submission_metadata.json").read_text(encoding="utf-8"))
        return [str(user["name"]) for user in metadata.get("users", [])
                if isinstance(user, dict) and user.get("name")]
    except (OSError, ValueError, AttributeError, TypeError):
        return []


def max_score(course: str | None = None) -> float:
    """Points possible of assignment ``course`` (default: the default one)."""
    return assignments.get(course).total


def run_timeout(course: str | None = None) -> float:
    """Seconds a whole run may take: every question's wall-clock cap (its time limit
    counts CPU time, and a question may run up to ``LIMITS.wall_cap_factor`` times
    it on the clock) of ``course`` (of the slowest assignment when each submission
    is recognised), plus start-up."""
    chosen = [assignments.get(course)] if course else assignments.registry().values()
    return max(sum(q.time_limit for q in assignment.questions) for assignment in chosen) \
        * LIMITS.wall_cap_factor * attempts() + 600


def failure_results(reason: str, output: str, seconds: float,
                    course: str | None = None) -> dict:
    """The results.json that blames us, not the student, with 0 points."""
    return {"score": 0,
            "output": f"The autograder itself failed (our failure, not yours): {reason}; "
                      "your instructor has been notified in the test output",
            "output_format": "text",
            "tests": [{"name": "Autograder error", "score": 0, "max_score": max_score(course),
                       "status": "failed", "visibility": "visible",
                       "output": f"{reason}\n\nLast part of the autograder's output:\n"
                                 f"{output[-OUTPUT_TAIL:]}"}],
            "execution_time": round(seconds)}


def _valid_results(path: Path) -> tuple[dict | None, str]:
    """The autograder's results and "", or None and why they cannot be used."""
    if not path.is_file():
        return None, "it wrote no results"
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return None, f"its results are not valid JSON ({error})"
    if not (isinstance(results, dict) and isinstance(results.get("tests"), list)
            and all(isinstance(test, dict) for test in results["tests"])
            and isinstance(results.get("score"), (int, float))):
        return None, "its results lack a score or a list of tests"
    return results, ""


def _run_autograder(command: list[str], cwd: Path, timeout: float) -> tuple[int | None, str]:
    """Run ``command``; return (exit status or None if it timed out, its output)."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        status = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        status = None
    return status, output.decode("utf-8", errors="replace")


def sandbox_user() -> str:
    """The user student code runs as: $GRADER_SANDBOX_USER if set ('' for none), else
    "student" when the judge runs as root and that user exists."""
    if SANDBOX_USER_VARIABLE in os.environ:
        return os.environ[SANDBOX_USER_VARIABLE].strip()
    if not isolation.effective():
        return ""
    try:
        isolation.account(DEFAULT_SANDBOX_USER)
    except isolation.IsolationError:
        print(f"warning: there is no user {DEFAULT_SANDBOX_USER!r} (setup.sh creates it), so "
              "student code runs as root and could read the test labels", file=sys.stderr)
        return ""
    return DEFAULT_SANDBOX_USER


def grade(root: Path, source: Path = PROJECT_ROOT, questions: str = "",
          figures: bool = True) -> dict:
    """Grade the submission in ``root/submission`` with ``source/autograder.py``; return
    the results to write (the autograder's own, or a failure report). With
    ``figures``, each question's key figure is embedded in its results."""
    started = time.monotonic()
    course = os.environ.get(COURSE_VARIABLE, "").strip()
    known = course if course in assignments.names() else None   # else autograder.py says why
    timeout = run_timeout(known)
    header = []
    names = submitter_names(root)
    if names:
        header.append(f"Submitted by: {', '.join(names)}")
    submission = root / "submission"
    files, problems = find_student_files(submission) if submission.is_dir() else (
        {}, [f"no submission folder {submission}"])
    if files:
        header.append("Files graded: " + ", ".join(
            path.relative_to(submission).as_posix() for path in files.values()))
    header += [f"Note: {problem}" for problem in problems]

    with tempfile.TemporaryDirectory(prefix="gradescope-") as workdir:
        student_dir = Path(workdir, "student")
        student_dir.mkdir()
        for name, path in files.items():
            shutil.copyfile(path, student_dir / name)
        results_file = Path(workdir, "results.json")
        command = [sys.executable, str(source / "autograder.py"), "--student-dir",
                   str(student_dir), "--gradescope-output", "--results-file",
                   str(results_file), "--no-graphics",
                   # one question at a time: the container's memory (768 MB by
                   # default) is not what /proc/meminfo reports
                   "-j", "1"]
        if questions:
            command += ["-q", questions]
        command += ["--attempts", str(attempts())]
        if course:
            command += ["--course", course]
        mode = os.environ.get(ISOLATION_VARIABLE, "").strip() or "auto"
        command += ["--isolation", mode]   # autograder.py refuses a mode it does not know
        user = sandbox_user() if mode != "none" else ""
        if user:
            command += ["--sandbox-user", user]
        if figures:   # drawn by the judge after scoring, into this temporary folder
            command += ["--save-plots", str(Path(workdir, "figures"))]
        status, output = _run_autograder(command, source, timeout)
        print(output, end="")  # Gradescope shows this to staff only
        results, problem = _valid_results(results_file)
    seconds = time.monotonic() - started

    if status is None:
        results, problem = None, f"it ran past {timeout:g} seconds and was stopped"
    elif results is None:
        problem = f"autograder.py exited with status {status} and {problem}"
    if results is None:
        results = failure_results(problem, output, seconds, known)
    else:
        results.setdefault("output_format", "text")
        results.setdefault("execution_time", round(seconds))
        for test in results["tests"]:
            test.setdefault("visibility", "visible")
    if header:
        results["output"] = "\n".join(header) + "\n\n" + str(results.get("output", ""))
    return results


def write_results(path: Path, results: dict) -> None:
    """Write results.json atomically; pictures are dropped if, with the header
    added here, it would exceed Gradescope's size limit."""
    if document_size(results) > RESULTS_LIMIT:
        strip_images(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def run(root: Path) -> int:
    """Grade ``root/submission`` and write ``root/results/results.json``; always 0."""
    started = time.monotonic()
    try:
        results = grade(root, questions=os.environ.get(QUESTIONS_VARIABLE, "").strip(),
                        figures=os.environ.get(FIGURES_VARIABLE, "1").strip() != "0")
    except Exception as error:  # a bug of ours: still tell the student it is not theirs
        import traceback
        trace = traceback.format_exc()
        print(trace, file=sys.stderr)
        results = failure_results(f"{type(error).__name__}: {error}", trace,
                                  time.monotonic() - started)
    write_results(root / "results" / "results.json", results)
    return EXIT_OK


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader.instructor.grading.gradescope",
        description="Grade one Gradescope submission (run_autograder calls this).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    grade_one = commands.add_parser("run", help="grade ROOT/submission into ROOT/results")
    grade_one.add_argument("--root", type=Path, default=Path("/autograder"),
                           help="Gradescope's folder (default /autograder)")
    args = parser.parse_args(argv)
    return run(args.root.resolve())


if __name__ == "__main__":
    sys.exit(main())
