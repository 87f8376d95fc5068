"""Each release holds its own assignment and nothing the grader keeps: only its own
package of grader/assignments/, no other assignment's skeleton, support module or
words in its README.md, data/README.md and pyproject.toml; the scored labels blanked
where its handout says the autograder keeps them; and the student's unzipped kit
still lists and grades its own assignment (on that blanked copy)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader import assignments
from grader.instructor.release import student_zip
from grader.judge.data import DataProblem, JudgeData, arrays_digest
from grader.judge.isolation import public_data
from helpers import ROOT

RELEASES = ("current", "models-only", "models-only-q6", "depth-width", "first-networks",
            "mlp-from-scratch")
HOLDING_BACK = ("depth-width", "first-networks", "mlp-from-scratch")
# A cheap question of each assignment whose staff solution earns all its points.
CHEAP = {"depth-width": ("q1d", "Total: 7/7"), "first-networks": ("q1", "Total: 2/2"),
         "mlp-from-scratch": ("q1", "Total: 5/5")}
# The course's own words, which no other assignment's release may hold.
COURSE_WORDS = ("lang_id", "shakespeare", "character GPT", "chargpt", "backend.py",
                "gpt_model", "PerceptronModel", "perceptron to", "ml-course-project",
                "language identification")
DESCRIBING = ("README.md", "data/README.md", "pyproject.toml", "grader/README.md")


def _others(name: str):
    """Assignments of other packages than ``name``'s."""
    own = assignments.package(name)
    return [other for other_name, other in assignments.registry().items()
            if assignments.package(other_name) != own]


def forbidden_words(name: str) -> list[str]:
    """Words of the other assignments: their names, release folders, student files and
    support modules, and the course's own words in a release of another assignment."""
    words = set(COURSE_WORDS) if assignments.package(name) != "course" else set()
    for other in _others(name):
        words.update({other.name, other.release.folder, *other.student_files,
                      *other.release.top_level, f"assignments/{assignments.package(other.name)}"})
    words.discard(assignments.get(name).release.folder)   # the course's versions share one
    return sorted(words)


@pytest.fixture(scope="module")
def unzipped(tmp_path_factory):
    """name -> the unzipped top folder of its release, built in this process."""
    built = {}
    folder = tmp_path_factory.mktemp("releases")

    def get(name: str) -> Path:
        if name not in built:
            output = student_zip.build_release(folder / f"{name}.zip", course=name)
            with zipfile.ZipFile(output) as archive:
                archive.extractall(folder / name)
            built[name] = folder / name / assignments.get(name).release.folder
        return built[name]
    return get


def student_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "GRADER_COURSE"):
        env.pop(name, None)
    return env


@pytest.mark.parametrize("name", RELEASES)
def test_a_release_holds_its_own_package_and_no_other_assignments_files(name, unzipped):
    top = unzipped(name)
    packages = sorted(path.name for path in (top / "grader" / "assignments").iterdir()
                      if path.is_dir())
    assert packages == [assignments.package(name)]
    for other in _others(name):
        for file in (*other.student_files, *other.release.top_level):
            assert not (top / file).exists(), f"{name}'s release ships {other.name}'s {file}"
    for file in assignments.get(name).student_files:
        assert (top / file).is_file()


@pytest.mark.parametrize("name", RELEASES)
def test_a_release_describes_only_its_own_assignment(name, unzipped):
    top = unzipped(name)
    for described in DESCRIBING:
        text = (top / described).read_text(encoding="utf-8")
        found = [word for word in forbidden_words(name) if word.lower() in text.lower()]
        assert not found, f"{name}'s {described} names {found}"
    assignment = assignments.get(name)
    if assignment.release.description:
        pyproject = (top / "pyproject.toml").read_text(encoding="utf-8")
        assert f'name = "{assignment.release.folder}"' in pyproject
        assert assignment.release.description in pyproject
        data_readme = (top / "data" / "README.md").read_text(encoding="utf-8")
        assert "`mnist.npz`" in data_readme and "blanked" in data_readme
        assert sorted(path.name for path in (top / "data").iterdir()) == ["README.md",
                                                                         "mnist.npz"]


@pytest.mark.parametrize("name", HOLDING_BACK)
def test_the_scored_labels_are_blanked_and_everything_else_is_the_project_data(
        name, unzipped):
    (file,) = assignments.get(name).data
    with np.load(unzipped(name) / "data" / file.name) as shipped, \
            np.load(ROOT / "data" / file.name) as full:
        assert sorted(shipped.files) == sorted(full.files)
        for key in full.files:
            if key != "test_labels":
                assert np.array_equal(shipped[key], full[key]), key
                assert shipped[key].dtype == full[key].dtype
        labels, real = shipped["test_labels"], full["test_labels"]
    scored = file.withheld[0].rows or slice(None)
    assert (labels[scored] == 255).all()
    kept = np.ones(len(real), dtype=bool)
    kept[scored] = False
    assert np.array_equal(labels[kept], real[kept])
    if name != "mlp-from-scratch":      # the students' even rows keep their labels
        assert kept.sum() == 5000
    else:
        assert kept.sum() == 0


def test_the_course_ships_its_data_as_it_is(unzipped):
    # The course's writeup gives students the test labels (backend's test_labels).
    for name in ("mnist.npz", "lang_id.npz", "shakespeare.txt"):
        assert (unzipped("current") / "data" / name).read_bytes() == \
            (ROOT / "data" / name).read_bytes()


@pytest.mark.parametrize("name", HOLDING_BACK)
def test_the_tables_public_digest_is_the_blanked_copys(name):
    (file,) = assignments.get(name).data
    with np.load(ROOT / "data" / file.name) as full:
        arrays = {key: full[key] for key in full.files}
    assert arrays_digest(public_data(file, arrays)) == file.public_digest


@pytest.mark.parametrize("name", RELEASES)
def test_the_released_autograder_lists_only_its_own_assignment(name, unzipped):
    process = subprocess.run([sys.executable, "autograder.py", "--help"], cwd=unzipped(name),
                             env=student_env(), capture_output=True, text=True, timeout=60)
    assert process.returncode == 0, process.stderr
    listed = process.stdout.split("(--course NAME):", 1)[1]
    own = assignments.package(name)
    for other_name in assignments.names():
        assert (other_name in listed.split()) == (assignments.package(other_name) == own), \
            other_name


@pytest.mark.parametrize("name", sorted(CHEAP))
def test_the_released_autograder_grades_on_the_blanked_copy(name, unzipped, tmp_path):
    assignment = assignments.get(name)
    student = tmp_path / "student"
    shutil.copytree(ROOT / assignment.reference, student)
    question, total = CHEAP[name]
    process = subprocess.run(
        [sys.executable, "autograder.py", "-q", question, "--no-graphics", "--student-dir",
         str(student)], cwd=unzipped(name), env=student_env(), capture_output=True,
        text=True, timeout=120)
    said = " ".join(process.stdout.split())
    assert process.returncode == 0, process.stdout + process.stderr
    assert total in said, said
    assert "data/mnist.npz is the students' copy, whose scored labels are blanked, so " \
           "accuracy is measured here on " in said
    assert "Traceback" not in process.stdout + process.stderr

    # A grade to be recorded is never computed on the blanked copy.
    recorded = subprocess.run(
        [sys.executable, "autograder.py", "-q", question, "--no-graphics", "--student-dir",
         str(student), "--gradescope-output", "--results-file", str(tmp_path / "r.json")],
        cwd=unzipped(name), env=student_env(), capture_output=True, text=True, timeout=120)
    assert recorded.returncode == 2 and "cannot grade for Gradescope or edX" in recorded.stderr
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("name", HOLDING_BACK)
def test_only_a_students_own_run_accepts_the_blanked_copy(name, unzipped, tmp_path):
    (file,) = assignments.get(name).data
    released = unzipped(name) / "data"
    with pytest.raises(DataProblem, match="differs from the file the project ships"):
        JudgeData(released, (file,))     # bulk and Gradescope: the real labels or nothing
    own = JudgeData(released, (file,), students_copy=True)
    withheld = file.withheld[0]
    stand_in = withheld.stand_in
    with np.load(ROOT / "data" / file.name) as full:
        scored = own.arrays(file.name)
        rows = withheld.rows or slice(None)
        assert np.array_equal(scored["test_labels"][rows], full[stand_in.labels][stand_in.rows])
        assert np.array_equal(scored["test_images"][rows], full[stand_in.inputs][stand_in.rows])
        assert (own.as_read(file.name)["test_labels"][rows] == 255).all()
        # the real grader with the full data scores on the real labels
        real = JudgeData(ROOT / "data", (file,)).arrays(file.name)
        assert not real is scored and np.array_equal(real["test_labels"], full["test_labels"])
        # a copy with any other change is refused, even for the student's own run
        changed = dict(own.as_read(file.name))
        changed["train_labels"] = changed["train_labels"].copy()
        changed["train_labels"][0] = (changed["train_labels"][0] + 1) % 10
    np.savez(tmp_path / file.name, **changed)
    with pytest.raises(DataProblem, match="differs from the file the project ships"):
        JudgeData(tmp_path, (file,), students_copy=True)


def test_two_builds_of_a_release_that_holds_back_are_byte_identical(tmp_path):
    first = student_zip.build_release(tmp_path / "a.zip", course="first-networks")
    second = student_zip.build_release(tmp_path / "b.zip", course="first-networks")
    assert first.read_bytes() == second.read_bytes()


def test_the_mlp_kit_says_why_it_cannot_measure_on_the_test_set(unzipped):
    script = ("from mlp_data import load_digits\n"
              "import numpy as np\n"
              "class Zeros:\n"
              "    def forward(self, x):\n"
              "        return np.zeros((len(x), 10))\n"
              "data = load_digits()\n"
              "print('validation', data.accuracy(Zeros(), 'validation'))\n"
              "data.accuracy(Zeros(), 'test')\n")
    process = subprocess.run([sys.executable, "-c", script], cwd=unzipped("mlp-from-scratch"),
                             env=student_env(), capture_output=True, text=True, timeout=60)
    assert "validation 0.09" in process.stdout
    assert process.returncode == 1
    assert "ValueError: the test labels are kept by the autograder (data/mnist.npz has them " \
           "blanked), so accuracy(model, 'test') cannot be measured here: use " \
           "accuracy(model, 'validation')" in process.stderr
