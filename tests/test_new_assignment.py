"""The worked example of grader/README.md: a whole new assignment (one student file,
one question) added as one package under grader/assignments/, then graded end to
end through the real judge and sandbox, recognised from its file, listed by --help
and released as a zip; no file outside the new package changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from helpers import copy_project

PACKAGE = "grader/assignments/zeros"

TABLE = '''
"""The "zeros" assignment: one student file, one question."""
from types import MappingProxyType

from grader.core.table import Assignment, Check, Question, Release, StudentFile


def readme(assignment):
    return (f"# {assignment.name}\\n\\nWrite ZeroModel in zeros.py, then run "
            "`python autograder.py`.\\n")


ASSIGNMENTS = (
    Assignment(
        "zeros", "one file, one question: a model that returns zeros",
        files=(StudentFile("zeros.py", "grader/assignments/zeros/skeleton/zeros.py"),),
        questions=(Question(
            "q1", "Zeros", checks=(Check("zeros", "ZeroModel returns zeros", 1),),
            student_files=("zeros.py",), module="grader.assignments.zeros.question",
            time_limit=60, thresholds=MappingProxyType({"rows": 4}), live_plot=False),),
        release=Release("zeros-project", files=("autograder.py",), data=(), readme=readme),
        reference="tests/reference_zeros",
        allowed_imports=MappingProxyType({"zeros.py": frozenset({"import torch"})})),
)
'''

QUESTION = '''
"""q1 of "zeros": ZeroModel()(x) is zeros of shape (rows, 2)."""
import numpy as np

from grader.checks.values import expect_tensor, forward_method
from grader.core.wiring import Definition, Probes

QUESTION = Definition()


@QUESTION.probes(reads=("rows",))
def make_probes(rng, data, settings):
    x = rng.standard_normal((settings["rows"], 3)).astype(np.float32)
    return Probes(public={"x": x}, secret={"expected": np.zeros((settings["rows"], 2))})


@QUESTION.step("zeros", budgeted=True)
def zeros(ctx, record):
    import torch
    model = ctx.call("zeros.ZeroModel()", ctx.lookup(ctx.student("zeros"), "ZeroModel"))
    output = expect_tensor(ctx.call("zeros.ZeroModel.forward", model,
                                    torch.from_numpy(ctx.probes["x"])),
                           "zeros.ZeroModel.forward", forward_method(model))
    record.save("output", output.detach().double().numpy())


@QUESTION.verdict("zeros")
def judge_zeros(v):
    output, expected = v.outcome.array("zeros", "output"), v.secret["expected"]
    if output is None:
        return v.missing()
    if output.shape != expected.shape or (output != expected).any():
        return v.failed(f"expected zeros of shape {expected.shape}; got shape {output.shape}")
    return v.passed("zeros of the right shape")
'''

SKELETON = '''
import torch


class ZeroModel(torch.nn.Module):
    def forward(self, x):
        """Return zeros of shape (len(x), 2)."""
        "*** YOUR CODE HERE ***"
'''

REFERENCE = '''
import torch


class ZeroModel(torch.nn.Module):
    def forward(self, x):
        return torch.zeros(len(x), 2)
'''

EXAMPLE = {
    f"{PACKAGE}/__init__.py": '"""The zeros assignment (a worked example)."""\n',
    f"{PACKAGE}/table.py": TABLE,
    f"{PACKAGE}/question.py": QUESTION,
    f"{PACKAGE}/skeleton/zeros.py": SKELETON,
    "tests/reference_zeros/zeros.py": REFERENCE,
}


def add_example(project: Path) -> None:
    for name, text in EXAMPLE.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"), encoding="utf-8")


def run(project: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, *args], cwd=cwd or project, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_example_touches_only_its_own_package_and_reference():
    assert all(name.startswith((f"{PACKAGE}/", "tests/reference_zeros/")) for name in EXAMPLE)


def test_a_new_assignment_is_one_package(tmp_path):
    project = copy_project(tmp_path / "project")
    add_example(project)

    # Listed by --help, and selectable by name.
    shown = run(project, "autograder.py", "--help")
    assert "zeros one file, one question: a model that returns zeros" in \
        " ".join(shown.stdout.split()), shown.stdout

    # Graded end to end, recognised from its file.
    student = tmp_path / "student"
    student.mkdir()
    (student / "zeros.py").write_text(REFERENCE, encoding="utf-8")
    graded = run(project, "autograder.py", "--student-dir", str(student), "--no-graphics",
                 "--json", str(tmp_path / "r.json"))
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "graded as assignment zeros (one file, one question: a model that returns " \
           "zeros), because the folder has zeros.py" in " ".join(graded.stdout.split())
    assert "*** PASS: ZeroModel returns zeros (1/1)" in graded.stdout
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["course"] == "zeros" and results["total"] == 1

    # The skeleton earns nothing, and says why.
    (student / "zeros.py").write_text(SKELETON, encoding="utf-8")
    skeleton = run(project, "autograder.py", "--student-dir", str(student), "--no-graphics",
                   "--course", "zeros")
    assert "### Question q1: 0/1 ###" in skeleton.stdout
    assert "returned None: it is still the skeleton" in skeleton.stdout

    # Released as a zip: the skeleton under its student name, the autograder, the
    # README from the table; no staff solution.
    released = run(project, "-m", "grader", "release", "--course", "zeros",
                   str(tmp_path / "zeros.zip"))
    assert released.returncode == 0, released.stderr
    with zipfile.ZipFile(tmp_path / "zeros.zip") as archive:
        names = set(archive.namelist())
        assert archive.read("zeros-project/zeros.py").decode() == SKELETON.lstrip("\n")
        assert archive.read("zeros-project/README.md").decode().startswith("# zeros")
        archive.extractall(tmp_path / "unzipped")
    assert {"zeros-project/autograder.py", f"zeros-project/{PACKAGE}/question.py"} <= names
    assert not any("reference" in name or name.startswith("zeros-project/tests/")
                   for name in names)
    assert "zeros-project/models.py" not in names

    # The student's unzipped folder holds this package only (no course): its one
    # assignment is the default there, graded without a note about recognising it.
    folder = tmp_path / "unzipped" / "zeros-project"
    assert sorted(path.name for path in (folder / "grader" / "assignments").iterdir()
                  if path.is_dir()) == ["zeros"]
    student_run = run(folder, "autograder.py", "--no-graphics")
    assert "Total: 0/1" in student_run.stdout, student_run.stderr
    assert "graded as" not in student_run.stdout


def test_a_broken_assignment_table_is_our_failure_said_plainly(tmp_path):
    project = copy_project(tmp_path / "project")
    broken = project / "grader" / "assignments" / "broken"
    broken.mkdir()
    (broken / "__init__.py").write_text("")
    (broken / "table.py").write_text("ASSIGNMENTS = (undefined_name,)\n")
    graded = run(project, "autograder.py", "--no-graphics")
    assert graded.returncode == 3 and graded.stdout == ""
    assert "the autograder is broken (an assignment's table could not be loaded" \
        in graded.stderr and "NameError: name 'undefined_name'" in graded.stderr
    instructor = run(project, "-m", "grader", "release", str(tmp_path / "x.zip"))
    assert instructor.returncode == 3 and "internal error" in instructor.stderr
    assert not (tmp_path / "x.zip").exists()
