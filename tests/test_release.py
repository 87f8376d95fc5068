"""`python -m grader release`: the student zip holds what students need, no staff
solutions, grades out of the box, and two builds are byte-identical."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import ROOT, STUDENT_FILES

TOP = "ml-project"
EXPECTED = (*STUDENT_FILES, "autograder.py", "backend.py", "chargpt.py", "pyproject.toml",
            "README.md", "grader/__init__.py", "grader/instructor/commands/main.py", "grader/judge/cli.py",
            "grader/assignments/course/table.py", "grader/README.md", "grader/assignments/course/questions/perceptron.py",
            "data/mnist.npz", "data/lang_id.npz", "data/shakespeare.txt", "data/README.md",
            "data/build.py")
# Lines of the staff solutions in tests/reference/ that must never ship.
REFERENCE_SNIPPETS = ("self.hidden_1 = Linear(1, 128)", "def _fit(")


def run_grader(*args: str) -> subprocess.CompletedProcess:
    """Run ``python -m grader ARGS`` from the repository root."""
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def release_zip(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("release") / "student.zip"
    process = run_grader("release", str(output))
    assert process.returncode == 0, process.stderr
    return output


@pytest.fixture(scope="module")
def unzipped(release_zip, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("unzipped")
    with zipfile.ZipFile(release_zip) as archive:
        archive.extractall(folder)
    return folder / TOP


def test_release_holds_the_student_files_under_one_folder(release_zip, unzipped):
    with zipfile.ZipFile(release_zip) as archive:
        names = archive.namelist()
        modes = {info.external_attr >> 16 & 0o777 for info in archive.infolist()}
    assert all(name.startswith(f"{TOP}/") for name in names)
    assert modes == {0o644}
    for name in EXPECTED:
        assert (unzipped / name).is_file(), f"{name} missing from the release"
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    for staff_only in ("tests", "benchmarks", ".ci", ".git"):
        assert not (unzipped / staff_only).exists(), f"{staff_only}/ must not ship"


def test_release_readme_is_for_students(unzipped):
    readme = (unzipped / "README.md").read_text(encoding="utf-8")
    assert "For instructors" not in readme
    for needed in ("models.py", "--no-graphics", "--check-dependencies", "chargpt.py",
                   "| q3 Digit classification | 5 | test accuracy >= 97% |"):
        assert needed in readme


def test_release_holds_no_reference_solution(unzipped):
    for path in unzipped.rglob("*"):
        if path.suffix in (".py", ".md", ".toml", ".txt"):
            text = path.read_text(encoding="utf-8")
            for snippet in REFERENCE_SNIPPETS:
                assert snippet not in text, f"{path.relative_to(unzipped)} holds {snippet!r}"


def test_released_autograder_grades_the_skeleton(unzipped):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    process = subprocess.run([sys.executable, "autograder.py", "-q", "q1", "--no-graphics"],
                             cwd=unzipped, env=env, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "Total: 0/5" in process.stdout
    assert "Traceback" not in process.stdout + process.stderr


def test_two_builds_are_byte_identical(release_zip, tmp_path):
    again = tmp_path / "again.zip"
    assert run_grader("release", str(again)).returncode == 0
    assert again.read_bytes() == release_zip.read_bytes()


def test_existing_output_needs_force(tmp_path):
    output = tmp_path / "student.zip"
    output.write_text("keep me")
    process = run_grader("release", str(output))
    assert process.returncode == 2
    assert str(output) in process.stderr and "--force" in process.stderr
    assert output.read_text() == "keep me"
    assert run_grader("release", str(output), "--force").returncode == 0
    assert zipfile.is_zipfile(output)
    assert list(tmp_path.iterdir()) == [output], "a temporary file was left behind"


def test_no_command_prints_help_and_exits_2():
    process = run_grader()
    assert process.returncode == 2
    assert "release" in process.stdout + process.stderr


def test_release_with_a_reference_solution_is_refused(tmp_path):
    from grader.instructor.release import student_zip
    from helpers import REFERENCE, copy_project, make_submission

    project = copy_project(tmp_path / "project")
    shutil.copy2(ROOT / "pyproject.toml", project / "pyproject.toml")
    shutil.copytree(REFERENCE, project / "tests" / "reference")
    make_submission(project)  # the staff solutions replace the skeletons
    output = tmp_path / "student.zip"
    with pytest.raises(student_zip.ReleaseError, match=r"models\.py: RegressionModel"):
        student_zip.build_release(output, root=project)
    assert not output.exists()
    assert [path.name for path in tmp_path.iterdir()] == ["project"]
