"""Gradescope's autograder: ``python -m grader gradescope-bundle autograder.zip``.

The zip is what an instructor uploads in Gradescope's "Configure Autograder". At its
root: ``setup.sh`` (run once, as root, when Gradescope builds the image: Python, a
venv with the CPU build of torch, an unprivileged user ``student``),
``run_autograder`` (run for each submission) and the staff files: ``autograder.py``,
``backend.py``, ``chargpt.py``, ``grader/``, ``data/`` and ``pyproject.toml``. It
never holds the skeletons (a file the student did not submit counts as not
submitted), ``tests/`` (the staff solutions) or ``benchmarks/``.

Gradescope unpacks the zip into ``/autograder/source`` and puts the student's upload
in ``/autograder/submission``. ``run_autograder`` calls ``python -m grader.instructor.gradescope
run --root /autograder`` (``run``, below): it finds the student files, nested folders
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
namespaces, else ``student`` alone, with a note in the results saying so).
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
from grader.core.source import PROJECT_FILES
from grader.core.table import LIMITS
from grader.figures.html import RESULTS_LIMIT, document_size, strip_images
from grader.instructor.submissions import find_student_files
from grader.instructor.zips import FILE_MODE, SCRIPT_MODE, check_output, write_zip
from grader.judge import isolation

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXIT_OK, EXIT_USAGE = 0, 2

# Versions installed by setup.sh; numpy and matplotlib as in pyproject.toml.
TORCH_VERSION = "2.13.0"
TORCH_INDEX_URL = "https://download.pytorch.org/whl/cpu"  # the CPU build: no CUDA download
NUMPY_REQUIREMENT = "numpy>=1.24,<3"
MATPLOTLIB_REQUIREMENT = "matplotlib>=3.5"

STAFF_FILES = (*PROJECT_FILES, "pyproject.toml")
STAFF_FOLDERS = ("grader", "data")
SKIPPED_NAMES = ("__pycache__",)

OUTPUT_TAIL = 3000  # characters of the autograder's output kept in a failure report
QUESTIONS_VARIABLE = "GRADER_QUESTIONS"
COURSE_VARIABLE = "GRADER_COURSE"
SANDBOX_USER_VARIABLE = "GRADER_SANDBOX_USER"
ISOLATION_VARIABLE = "GRADER_ISOLATION"
DEFAULT_SANDBOX_USER = "student"   # created by setup.sh
FIGURES_VARIABLE = "GRADER_FIGURES"

SETUP_SH = f"""\
#!/usr/bin/env bash
# Gradescope runs this once, as root on Ubuntu, when it builds the autograder image.
set -euo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
if ! command -v python3 >/dev/null || ! python3 -c "import venv, ensurepip" 2>/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3 python3-pip python3-venv
fi
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --upgrade pip
"$ROOT/venv/bin/python" -m pip install "torch=={TORCH_VERSION}" --index-url {TORCH_INDEX_URL}
"$ROOT/venv/bin/python" -m pip install "{NUMPY_REQUIREMENT}" "{MATPLOTLIB_REQUIREMENT}"
if ! id -u student >/dev/null 2>&1; then
    useradd --no-create-home --shell /usr/sbin/nologin student
fi
# bubblewrap keeps each question in a sandbox; where the container allows no user
# namespaces it cannot start, and the grader says so in the results and goes on
# with the user "student" alone.
if ! command -v bwrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y bubblewrap \
        || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y bubblewrap) \
        || echo "setup.sh: bubblewrap could not be installed; student code runs as student only"
fi
# Student code runs as "student": the labels in source/data must be root's alone.
chmod -R go-rwx "$ROOT/source"
"""

# If Python itself cannot start, write a failure report here so that Gradescope
# still shows the student a result that says it is our fault.
RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission; grading is in grader/instructor/gradescope.py.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
{course_line}if [ -n "${AUTOGRADER_PYTHON:-}" ]; then
    PYTHON="$AUTOGRADER_PYTHON"
elif [ -x "$ROOT/venv/bin/python" ]; then
    PYTHON="$ROOT/venv/bin/python"
else
    PYTHON=python3
fi
chmod -R go-rwx "$ROOT/source" 2>/dev/null  # in case the image was built without setup.sh's
cd "$ROOT/source" && "$PYTHON" -m grader.instructor.gradescope run --root "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    mkdir -p "$ROOT/results"
    cat > "$ROOT/results/results.json" <<EOF
{"score": 0, "output_format": "text", "output": "The autograder itself failed (our failure, not yours): it could not start (status $status); your instructor has been notified in the test output", "tests": [{"name": "Autograder error", "score": 0, "max_score": {max_score}, "status": "failed", "output": "python -m grader.instructor.gradescope exited with status $status and wrote no results", "visibility": "visible"}]}
EOF
fi
exit 0
"""


class BundleError(Exception):
    """A bundle that must not be written; the message says why and what to do."""


# ---------------------------------------------------------------- the bundle

def bundle_files(root: Path = PROJECT_ROOT) -> dict[str, Path]:
    """Map each staff file's path inside the bundle ('/'-separated) to its source.

    Raises BundleError when a file the autograder needs is missing."""
    wanted = [root / name for name in STAFF_FILES]
    wanted.append(root / "grader" / "README.md")
    for folder in STAFF_FOLDERS:
        pattern = "*.py" if folder == "grader" else "*"
        wanted += sorted(path for path in (root / folder).rglob(pattern) if path.is_file()
                         and not any(part in SKIPPED_NAMES for part in path.parts))
    missing = [str(path.relative_to(root)) for path in wanted if not path.is_file()]
    missing += [f"{folder}/" for folder in STAFF_FOLDERS
                if not any(path.parent.name == folder for path in wanted)]
    if missing:
        raise BundleError(f"cannot build the bundle: missing {', '.join(missing)} in {root}")
    return {path.relative_to(root).as_posix(): path for path in wanted}


def build_bundle(output: Path, force: bool = False, root: Path = PROJECT_ROOT,
                 course: str | None = None) -> Path:
    """Write the Gradescope zip to ``output`` (atomically, sorted entries, fixed dates)
    and return its path; with ``course``, every submission is graded as that course
    version (else each is recognised from its files). Raises BundleError when
    ``output`` exists and ``force`` is false, when its folder is missing, or when a
    staff file is missing."""
    output = check_output(output, force, BundleError)
    contents = {name: (path.read_bytes(), FILE_MODE) for name, path in bundle_files(root).items()}
    contents["setup.sh"] = (SETUP_SH.encode("utf-8"), SCRIPT_MODE)
    course_line = (f'export {COURSE_VARIABLE}="${{{COURSE_VARIABLE}:-{course}}}"\n'
                   if course else "")
    script = RUN_AUTOGRADER.replace("{course_line}", course_line).replace(
        "{max_score}", f"{max_score(course):g}")
    contents["run_autograder"] = (script.encode("utf-8"), SCRIPT_MODE)
    return write_zip(output, contents)


def run_gradescope_bundle(args: argparse.Namespace) -> int:
    try:
        output = build_bundle(args.output, force=args.force, course=args.course)
    except BundleError as error:
        print(f"grader gradescope-bundle: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {output}; upload it in Gradescope's 'Configure Autograder'")
    return EXIT_OK


def add_gradescope_bundle(commands) -> None:
    parser = commands.add_parser(
        "gradescope-bundle", help="build the zip to upload as Gradescope's autograder",
        description="Build Gradescope's autograder zip: setup.sh, run_autograder and the "
                    "staff files; never the skeletons, tests/ or benchmarks/. Two builds "
                    "are byte-identical.")
    parser.add_argument("output", type=Path, metavar="autograder.zip",
                        help="where to write the zip")
    parser.add_argument("--force", action="store_true",
                        help="overwrite the zip if it already exists")
    assignments.add_course_option(
        parser, "grade every submission as this course version or assignment (default: "
                "recognised from each submission's files; names below)")
    parser.set_defaults(run=run_gradescope_bundle, command="gradescope-bundle")


# ---------------------------------------------------------------- grading one submission

def submitter_names(root: Path) -> list[str]:
    """Names in Gradescope's ``submission_metadata.json``; [] if absent or unreadable."""
    try:
        metadata = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
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
        * LIMITS.wall_cap_factor + 600


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
        prog="python -m grader.instructor.gradescope",
        description="Grade one Gradescope submission (run_autograder calls this).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    grade_one = commands.add_parser("run", help="grade ROOT/submission into ROOT/results")
    grade_one.add_argument("--root", type=Path, default=Path("/autograder"),
                           help="Gradescope's folder (default /autograder)")
    args = parser.parse_args(argv)
    return run(args.root.resolve())


if __name__ == "__main__":
    sys.exit(main())
