"""Build the zip that students download: ``python -m grader release student.zip``.

The zip holds the four skeletons, the autograder (``autograder.py``, ``grader/``,
``backend.py``), ``chargpt.py``, the data, ``pyproject.toml`` and a README written
for students (the repository's README has staff sections). It never holds
``tests/`` (the staff reference solutions) or ``benchmarks/`` (they import them).

Two builds of the same files are byte-identical: entries are sorted and carry a
fixed timestamp and mode. After building, every function and class of the release
is compared with the staff solutions in ``tests/reference/``; a copied body fails
the build and the partial zip is deleted.
"""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

from grader.assignments.course.table import COURSES, DEFAULT_COURSE, MODELS_ONLY, STUDENT_FILES, course_questions
from grader.instructor.zips import FILE_MODE, check_output, write_zip

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIRS = ("tests/reference", "tests/reference_models_only")
# The earlier handout's skeleton: everything in models.py (grader/assignments/course/skeletons/).
MODELS_ONLY_SKELETON = "grader/assignments/course/skeletons/models_only/models.py"
TOP_FOLDER = "ml-project"
TOP_LEVEL_FILES = (*STUDENT_FILES, "autograder.py", "backend.py", "chargpt.py", "pyproject.toml")
DATA_FILES = ("mnist.npz", "lang_id.npz", "shakespeare.txt", "README.md", "build.py")
# A reference def/class with more statements than this must not appear in the release.
MAX_SHARED_STATEMENTS = 3
# Code the course hands out ready-made in the skeletons, which the reference keeps
# unchanged: (file, qualified name).
PROVIDED_IN_SKELETON = frozenset({
    ("models.py", "AttentionBlock.__init__"),
    ("models.py", "Attention.__init__"),
    ("gpt_model.py", "Transformer_Block.__init__"),
    ("gpt_model.py", "Character_GPT.__init__"),
})

# What passes each question, formatted with that question's thresholds from grader/assignments/course/table.py.
PASS_CRITERIA = {
    "q1": "100% training accuracy, after sanity checks of weights, scores and updates",
    "q2": "mean squared error <= {max_mse} on sin(x)",
    "q3": "test accuracy >= {min_accuracy:.0%}",
    "q4": "test accuracy >= {min_accuracy:.0%} on words in five languages",
    "q5": "`Convolve` matches a 'valid' 2-D convolution; >= {min_accuracy:.0%} on the "
          "200 digits it trained on",
    "q6": "output equals softmax(mask(QK^T / sqrt(C))) V",
    "q7": "ungraded checks: shapes, no looking ahead, the loss falls",
}

README_HEAD = """\
# Machine-learning project

You build a perceptron, then neural networks for regression, digit classification
and language identification, a small convolutional network, causal attention, and
finally a character-level GPT. The autograder checks your work. Everything runs
offline on a laptop CPU with Python 3.10 or newer.

## What to edit

{what_to_edit}

Everything else (`autograder.py`, `grader/`, `backend.py`, `data/`) belongs to the
autograder; you can ignore it.

## Set up

```
python -m pip install torch numpy matplotlib
```

or, in this folder, `pip install -e .` (any torch 2.x works).

## Run

```
python autograder.py                        # all questions
python autograder.py -q q3                  # one question (-q q1,q2 for several)
python autograder.py --no-graphics --mute   # no live plots; hide your prints
python autograder.py --save-plots plots     # pictures of your trained models in plots/
python autograder.py --check-dependencies   # numpy, matplotlib and torch work?
python chargpt.py                           # question 7: train the GPT on Shakespeare
python chargpt.py --plot loss.png           # ... and save its loss curve
```

Each question runs your code in a separate process, so a crash or an endless loop
costs only that question, and the message says what happened and on which line.

## Questions

| question | points | passes when |
|---|---|---|
"""

README_TAIL = """
Each question first awards points for sanity checks (shapes, gradients), then for
reaching its threshold. The skeleton as shipped earns 0/{total:g}.
"""


WHAT_TO_EDIT = {
    "split-files": """\
Edit these four files only; the autograder looks up the names in them, so keep
those names:

| file | what you write |
|---|---|
| `models.py` | the models of questions 1-6, `Convolve`, and `AttentionBlock.forward` |
| `losses.py` | one loss function per question 2-5 |
| `train.py` | one training loop per question 1-5 |
| `gpt_model.py` | `Transformer_Block.forward` and `Character_GPT.forward` (question 7) |""",
    MODELS_ONLY: """\
Edit `models.py` only; the autograder looks up the names in it, so keep those
names. Each model has `run(x)` (its computation), `get_loss(x, y)` and
`train(dataset)`; the perceptron has `run`, `get_prediction` and `train`; question
5 adds the function `Convolve`. `python autograder.py` recognises this version of
the project (`--course {course}` names it).""",
}


class ReleaseError(Exception):
    """A release that must not be written; the message says why and what to do."""


def student_readme(course: str = DEFAULT_COURSE) -> str:
    """The README.md of the release, its question table read from grader/assignments/course/table.py."""
    questions = course_questions(course)
    rows = []
    for question in questions:
        criterion = PASS_CRITERIA[question.id].format(**question.thresholds)
        points = f"{question.points:g}" + (" (extra credit)" if question.extra_credit else "")
        rows.append(f"| {question.id} {question.title} | {points} | {criterion} |\n")
    total = sum(question.points for question in questions if not question.extra_credit)
    head = README_HEAD.replace("{what_to_edit}", WHAT_TO_EDIT[COURSES[course].interface]
                               .replace("{course}", course))
    if COURSES[course].interface == MODELS_ONLY:
        head = head.replace("python chargpt.py                           # question 7: "
                            "train the GPT on Shakespeare\n", "").replace(
            "python chargpt.py --plot loss.png           # ... and save its loss curve\n", "")
    return head + "".join(rows) + README_TAIL.format(total=total)


def release_files(root: Path = PROJECT_ROOT, course: str = DEFAULT_COURSE) -> dict[str, Path]:
    """Map each path inside the release (relative, '/'-separated) to its source file.

    Raises ReleaseError when a file the release needs is missing."""
    if COURSES[course].interface == MODELS_ONLY:   # one student file; no GPT (no q7)
        wanted = [root / name for name in TOP_LEVEL_FILES
                  if name not in STUDENT_FILES and name != "chargpt.py"]
        sources = {"models.py": root / MODELS_ONLY_SKELETON}
    else:
        wanted = [root / name for name in TOP_LEVEL_FILES]
        sources = {}
    wanted += [root / "data" / name for name in DATA_FILES]
    grader_dir = root / "grader"
    wanted += sorted(path for path in grader_dir.rglob("*.py") if "__pycache__" not in path.parts)
    wanted.append(grader_dir / "README.md")
    missing = [str(path.relative_to(root)) for path in [*wanted, *sources.values()]
               if not path.is_file()]
    if missing:
        raise ReleaseError(f"cannot build the release: missing {', '.join(missing)} in {root}")
    return {**{path.relative_to(root).as_posix(): path for path in wanted}, **sources}


def _definitions(source: str, filename: str) -> list[tuple[str, ast.AST]]:
    """Every def/class in ``source``, nested ones included, as (qualified name, node)."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.append((prefix + child.name, child))
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source, filename=filename), "")
    return found


def reference_definitions(root: Path = PROJECT_ROOT) -> dict[str, tuple[str, str]]:
    """Unparsed text -> (file, qualified name) of every staff-solution def/class with
    more than MAX_SHARED_STATEMENTS statements, less the code the skeletons provide."""
    forbidden = {}
    paths = [path for folder in REFERENCE_DIRS for path in sorted((root / folder).glob("*.py"))]
    for path in paths:
        for name, node in _definitions(path.read_text(encoding="utf-8"), str(path)):
            if len(node.body) > MAX_SHARED_STATEMENTS and \
                    name not in {provided for _, provided in PROVIDED_IN_SKELETON}:
                forbidden[ast.unparse(node)] = (path.relative_to(root).as_posix(), name)
    return forbidden


def find_leaks(archive_path: Path, forbidden: dict[str, tuple[str, str]]) -> list[str]:
    """Return one line per release def/class whose text equals a staff solution's."""
    leaks = []
    with zipfile.ZipFile(archive_path) as archive:
        for name in archive.namelist():
            if not name.endswith(".py"):
                continue
            source = archive.read(name).decode("utf-8")
            for qualified, node in _definitions(source, name):
                text = ast.unparse(node)
                if text in forbidden:
                    ref_file, ref_name = forbidden[text]
                    leaks.append(f"{name}: {qualified} is a copy of {ref_file}: {ref_name}")
    return leaks


def build_release(output: Path, force: bool = False, root: Path = PROJECT_ROOT,
                  course: str = DEFAULT_COURSE) -> Path:
    """Build the student zip at ``output`` (atomically) and return its path.

    Raises ReleaseError when ``output`` exists and ``force`` is false, when its folder
    is missing, or when the release would contain staff-solution code."""
    output = check_output(output, force, ReleaseError)
    contents = {f"{TOP_FOLDER}/{name}": (path.read_bytes(), FILE_MODE)
                for name, path in release_files(root, course).items()}
    contents[f"{TOP_FOLDER}/README.md"] = (student_readme(course).encode("utf-8"), FILE_MODE)
    forbidden = reference_definitions(root)

    def no_leaks(archive: Path) -> None:
        leaks = find_leaks(archive, forbidden)
        if leaks:
            raise ReleaseError("the release contains staff reference solutions; nothing was "
                               "written. Replace these with the skeleton's stubs:\n  "
                               + "\n  ".join(leaks))
    return write_zip(output, contents, check=no_leaks)
