"""Gradescope's autograder bundle: ``python -m grader gradescope-bundle autograder.zip``.

The zip is what an instructor uploads in Gradescope's "Configure Autograder". At its
root: ``setup.sh`` (run once, as root, when Gradescope builds the image: Python, a
venv with the CPU build of torch, an unprivileged user ``student``),
``run_autograder`` (run for each submission: it calls
grader/instructor/grading/gradescope.py) and the staff files: ``autograder.py``,
``backend.py``, ``chargpt.py``, ``grader/``, ``data/`` and ``pyproject.toml``. It
never holds the skeletons (a file the student did not submit counts as not
submitted), ``tests/`` (the staff solutions) or ``benchmarks/``.
"""

from __future__ import annotations

from pathlib import Path

from grader.core.source import PROJECT_FILES
from grader.instructor.common.zips import FILE_MODE, SCRIPT_MODE, check_output, write_zip
from grader.instructor.grading.gradescope import COURSE_VARIABLE, max_score

PROJECT_ROOT = Path(__file__).resolve().parents[3]

# Versions installed by setup.sh; numpy and matplotlib as in pyproject.toml.
TORCH_VERSION = "2.13.0"
TORCH_INDEX_URL = "https://download.pytorch.org/whl/cpu"  # the CPU build: no CUDA download
NUMPY_REQUIREMENT = "numpy>=1.24,<3"
MATPLOTLIB_REQUIREMENT = "matplotlib>=3.5"

STAFF_FILES = (*PROJECT_FILES, "pyproject.toml")
STAFF_FOLDERS = ("grader", "data")
SKIPPED_NAMES = ("__pycache__",)

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
# Gradescope runs this for each submission; grading is in grader/instructor/grading/gradescope.py.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
{course_line}if [ -n "${AUTOGRADER_PYTHON:-}" ]; then
    PYTHON="$AUTOGRADER_PYTHON"
elif [ -x "$ROOT/venv/bin/python" ]; then
    PYTHON="$ROOT/venv/bin/python"
else
    PYTHON=python3
fi
chmod -R go-rwx "$ROOT/source" 2>/dev/null  # in case the image was built without setup.sh's
cd "$ROOT/source" && "$PYTHON" -m grader.instructor.grading.gradescope run --root "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    mkdir -p "$ROOT/results"
    cat > "$ROOT/results/results.json" <<EOF
{"score": 0, "output_format": "text", "output": "The autograder itself failed (our failure, not yours): it could not start (status $status); your instructor has been notified in the test output", "tests": [{"name": "Autograder error", "score": 0, "max_score": {max_score}, "status": "failed", "output": "python -m grader.instructor.grading.gradescope exited with status $status and wrote no results", "visibility": "visible"}]}
EOF
fi
exit 0
"""


class BundleError(Exception):
    """A bundle that must not be written; the message says why and what to do."""


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
