"""`python -m grader gradescope-bundle`: the zip holds what Gradescope runs, and
run_autograder, unpacked as Gradescope unpacks it, always writes a results.json."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.instructor.commands import release

from grader.instructor.release import gradescope_bundle
from grader.instructor.intake.files import find_student_files
from helpers import ROOT, STUDENT_FILES, make_submission

TEST_KEYS = {"name", "number", "score", "max_score", "status", "output", "visibility"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return gradescope_bundle.build_bundle(tmp_path_factory.mktemp("bundle") / "autograder.zip")


def bundle_command(*argv: str) -> int:
    """Parse and run ``gradescope-bundle ARGV`` as ``python -m grader`` does."""
    parser = argparse.ArgumentParser()
    release.add_gradescope_bundle(parser.add_subparsers())
    args = parser.parse_args(["gradescope-bundle", *argv])
    assert args.command == "gradescope-bundle"
    return args.run(args)


def autograder_root(bundle: Path, folder: Path) -> Path:
    """Gradescope's layout: the bundle in source/, an empty submission/ and results/."""
    root = folder / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def run_autograder(root: Path, questions: str = "q1,q6") -> dict:
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable,
               GRADER_QUESTIONS=questions, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    process = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root,
                             env=env, capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stdout + process.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def test_bundle_holds_the_scripts_and_staff_files_only(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    for script in ("setup.sh", "run_autograder"):
        assert infos[script].external_attr >> 16 & 0o777 == 0o755
    for name in ("autograder.py", "backend.py", "chargpt.py", "pyproject.toml",
                 "grader/instructor/grading/gradescope.py", "grader/README.md", "data/mnist.npz"):
        assert name in infos, f"{name} missing from the bundle"
    assert not any(name.startswith(("tests/", "benchmarks/")) or "__pycache__" in name
                   for name in infos)
    assert not set(STUDENT_FILES) & set(infos), "skeletons must not ship: missing = not submitted"
    assert list(infos) == sorted(infos)
    # Two builds are byte-identical; an existing zip needs --force.
    again = tmp_path / "again.zip"
    assert bundle_command(str(again)) == 0
    assert again.read_bytes() == bundle.read_bytes()
    assert bundle_command(str(again)) == 2
    assert bundle_command(str(again), "--force") == 0
    assert bundle_command(str(tmp_path / "missing" / "a.zip")) == 2


def test_setup_pins_match_pyproject():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for requirement in (gradescope_bundle.NUMPY_REQUIREMENT, gradescope_bundle.MATPLOTLIB_REQUIREMENT):
        assert f'"{requirement}"' in pyproject
    assert f"torch=={gradescope_bundle.TORCH_VERSION}" in gradescope_bundle.SETUP_SH
    assert "useradd" in gradescope_bundle.SETUP_SH and "id -u student" in gradescope_bundle.SETUP_SH


def test_reference_in_a_nested_folder_earns_full_marks(bundle, tmp_path):
    root = autograder_root(bundle, tmp_path)
    make_submission(root / "submission" / "hw")
    (root / "submission_metadata.json").write_text(
        json.dumps({"users": [{"name": "Ada Lovelace", "email": "ada@example.edu"}]}))
    results = run_autograder(root)
    assert results["score"] == 7, results["output"]
    assert results["output_format"] == "text"
    assert results["output"].splitlines()[0] == "Submitted by: Ada Lovelace"
    assert "hw/models.py" in results["output"]
    assert results["tests"] and all(TEST_KEYS <= set(test) for test in results["tests"])
    assert all(test["status"] == "passed" for test in results["tests"])


def test_skeleton_earns_zero_with_messages(bundle, tmp_path):
    root = autograder_root(bundle, tmp_path)
    for name in STUDENT_FILES:
        shutil.copyfile(ROOT / name, root / "submission" / name)
    results = run_autograder(root)
    assert results["score"] == 0
    assert all(test["status"] == "failed" and test["output"] for test in results["tests"])
    assert "skeleton" in "\n".join(test["output"] for test in results["tests"])


def test_broken_submission_earns_zero_in_valid_json(bundle, tmp_path):
    root = autograder_root(bundle, tmp_path)
    make_submission(root / "submission", {"models.py": "def broken(:\n    pass"})
    results = run_autograder(root)
    assert results["score"] == 0
    assert "models.py" in "\n".join(test["output"] for test in results["tests"])
    assert "our failure" not in results["output"]


def test_crashing_autograder_is_reported_as_ours(bundle, tmp_path):
    root = autograder_root(bundle, tmp_path)
    make_submission(root / "submission")
    (root / "source" / "autograder.py").write_text("raise RuntimeError('boom')\n")
    results = run_autograder(root)
    assert results["score"] == 0
    assert "our failure" in results["output"]
    [test] = results["tests"]
    assert test["name"] == "Autograder error" and test["max_score"] == 25
    assert "boom" in test["output"] and test["visibility"] == "visible"


def test_tied_copies_are_not_graded(tmp_path):
    make_submission(tmp_path / "a")
    make_submission(tmp_path / "b", omit=("losses.py", "train.py", "gpt_model.py"))
    files, problems = find_student_files(tmp_path)
    assert "models.py" not in files and set(files) == {"losses.py", "train.py", "gpt_model.py"}
    assert len(problems) == 1 and "two copies of models.py" in problems[0]
