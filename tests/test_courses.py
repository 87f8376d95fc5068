"""Course versions (step 8): solutions written for the earlier, models-only handout
are graded unchanged, recognised from their files, with its points and extra credit;
a submission of the other interface is told which version it needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.assignments.course import recognise as courses
from grader.assignments.course.table import COURSES, course_questions
from helpers import REFERENCE, ROOT, make_submission, messages, points_by_test, run_autograder

MODELS_ONLY_REFERENCE = ROOT / "tests" / "reference_models_only"
MODELS_ONLY_SKELETON = (ROOT / "grader" / "assignments" / "course" / "skeletons" / "models_only"
                        / "models.py")


def models_only(folder: Path, source: str = "models.py", without_attention: bool = False,
                appended: str = "") -> Path:
    """A models-only submission: the one file, optionally without the attention class."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (MODELS_ONLY_REFERENCE / source).read_text(encoding="utf-8")
    if without_attention:
        text = text.split("\nclass Attention(")[0]
    (folder / "models.py").write_text(text + appended, encoding="utf-8")
    return folder


def grade(folder: Path, tmp_path: Path, *options: str):
    process, results = run_autograder("--student-dir", str(folder), "--no-graphics", "--mute",
                                      "--json", str(tmp_path / "r.json"), *options)
    assert results is not None, process.stdout + process.stderr
    return process, results


def test_the_versions_points_are_the_courses():
    totals = {name: (sum(q.points for q in course_questions(name) if not q.extra_credit),
                     [q.id for q in course_questions(name) if q.extra_credit])
              for name in COURSES}
    assert totals == {"current": (25, []), "models-only": (25, ["q5"]),
                      "models-only-q6": (30, [])}
    earlier = {q.id: q.points for q in course_questions("models-only")}
    assert earlier == {"q1": 6, "q2": 6, "q3": 6, "q4": 7, "q5": 1}
    later = {q.id: q.points for q in course_questions("models-only-q6")}
    assert later["q5"] == 4 and later["q6"] == 1
    assert course_questions("current") == course_questions()   # the default is unchanged


def test_detection_picks_the_version_the_files_were_written_for(tmp_path):
    assert courses.detect(REFERENCE) == ("current", "")
    assert courses.detect(ROOT) == ("current", "")                 # the current skeleton
    version, why = courses.detect(MODELS_ONLY_REFERENCE)
    assert version == "models-only-q6" and "RegressionModel.train(self, dataset)" in why
    plain = models_only(tmp_path / "plain", without_attention=True)
    assert courses.detect(plain)[0] == "models-only"
    skeleton = tmp_path / "skeleton"
    skeleton.mkdir()
    shutil.copy(MODELS_ONLY_SKELETON, skeleton / "models.py")
    assert courses.detect(skeleton)[0] == "models-only"
    # Filled-in train.py functions mean the current handout, whatever models.py has.
    shutil.copy(REFERENCE / "train.py", plain / "train.py")
    assert courses.detect(plain) == ("current", "")


def test_models_only_reference_earns_full_marks_as_recognised(tmp_path):
    process, results = grade(models_only(tmp_path / "s"), tmp_path)
    assert results["course"] == "models-only-q6"
    assert results["total"] == results["max"] == 30, process.stdout
    assert "Note: graded as course version models-only-q6" in process.stdout
    assert "choose another with --course" in process.stdout
    assert process.stdout.count("graded as course version") == 1


def test_extra_credit_is_reported_as_such_and_counted_above_the_total(tmp_path):
    submission = models_only(tmp_path / "s", without_attention=True, appended=(
        "\n\ndef _no_training(self, dataset):\n    pass\n\n\n"
        "DigitConvolutionalModel.train = _no_training\n"))
    process, results = grade(submission, tmp_path, "-q", "q1,q5")
    assert results["course"] == "models-only"
    assert "### Question q5: 0.5/1 (extra credit) ###" in process.stdout
    assert "Question q5: 0.5/1 (extra credit)" in process.stdout
    assert "Total: 6.5/6 (including 0.5 extra credit)" in process.stdout
    assert (results["total"], results["max"], results["extra_credit"]) == (6.5, 6, 0.5)
    assert results["questions"]["q5"]["extra_credit"] is True


def test_a_solution_with_both_run_and_forward_works(tmp_path):
    process, results = grade(models_only(tmp_path / "s", "models_both.py"), tmp_path,
                             "-q", "q1,q2,q6", "--course", "models-only-q6")
    assert results["total"] == results["max"] == 13, process.stdout


def test_the_models_only_skeleton_earns_zero_with_clear_messages(tmp_path):
    skeleton = tmp_path / "skeleton"
    skeleton.mkdir()
    shutil.copy(MODELS_ONLY_SKELETON, skeleton / "models.py")
    process, results = grade(skeleton, tmp_path)
    assert results["course"] == "models-only" and results["total"] == 0, process.stdout
    text = "\n".join(t["message"] for t in results["tests"])
    assert "still the skeleton" in text
    assert "Traceback" not in process.stdout + process.stderr
    assert "losses.py" not in text and "train.py" not in text      # nothing of the other handout


def test_the_other_interface_is_named_in_each_question(tmp_path):
    current = make_submission(tmp_path / "current")
    _, results = grade(current, tmp_path, "--course", "models-only", "-q", "q1,q2")
    assert points_by_test(results)["q1: PerceptronModel.train: update rule"] == 0
    for question in ("q1", "q2"):
        text = messages(results, question)
        assert "this course version (models-only" in text, text
        assert "grade with --course current" in text, text

    earlier = models_only(tmp_path / "earlier", without_attention=True)
    _, results = grade(earlier, tmp_path, "--course", "current", "-q", "q2")
    text = messages(results, "q2")
    assert "defines get_loss(x, y), as the course's earlier, models-only handout" in text
    assert "grade with --course models-only" in text


def test_unknown_course_and_missing_question_are_usage_errors(tmp_path):
    process, _ = run_autograder("--course", "nope", "--no-graphics")
    assert process.returncode == 2 and "invalid choice" in process.stderr
    process, _ = run_autograder("--course", "models-only", "-q", "q7", "--no-graphics")
    assert process.returncode == 2
    assert "course version models-only has no question q7" in process.stderr
    help_text = subprocess.run([sys.executable, str(ROOT / "autograder.py"), "--help"],
                               capture_output=True, text=True).stdout
    for name, version in COURSES.items():
        assert name in help_text


def test_release_of_the_models_only_version(tmp_path):
    from grader.instructor.release import student_zip
    output = student_zip.build_release(tmp_path / "student.zip", course="models-only")
    with zipfile.ZipFile(output) as archive:
        names = set(archive.namelist())
        readme = archive.read("ml-project/README.md").decode()
        shipped = archive.read("ml-project/models.py")
    assert "ml-project/models.py" in names
    for absent in ("losses.py", "train.py", "gpt_model.py", "chargpt.py"):
        assert f"ml-project/{absent}" not in names
    assert shipped == MODELS_ONLY_SKELETON.read_bytes()
    assert "| q5 Convolutional neural network | 1 (extra credit) |" in readme
    assert "Edit `models.py` only" in readme and "chargpt" not in readme


def test_gradescope_bundle_and_bulk_take_the_course(tmp_path):
    from grader.instructor.reports import grades
    from grader.instructor.release import gradescope_bundle
    bundle = gradescope_bundle.build_bundle(tmp_path / "a.zip", course="models-only")
    with zipfile.ZipFile(bundle) as archive:
        script = archive.read("run_autograder").decode()
    assert 'export GRADER_COURSE="${GRADER_COURSE:-models-only}"' in script
    with zipfile.ZipFile(gradescope_bundle.build_bundle(tmp_path / "b.zip")) as archive:
        assert "GRADER_COURSE" not in archive.read("run_autograder").decode()
    # grades.csv: the version's points possible, extra credit outside the total
    records = [{"id": "ada", "status": "graded", "course": None, "submitters": [],
                "result": {"course": "models-only", "total": 25.5,
                           "questions": {"q5": {"points": 0.5, "max": 1}}}}]
    table = grades.csv_text(records).splitlines()
    assert table[0].split(",")[4:10] == ["q1", "q2", "q3", "q4", "q5", "total"]
    assert table[1].split(",")[4:10] == ["6", "6", "6", "7", "1", "25"]
    assert table[0].split(",")[-2:] == ["course", "recognised_as"]
    assert table[2].split(",")[-2:] == ["models-only", ""]


# ------------------------------------------------------------------ q6's two orientations

QUERY_KEY = "scores = matmul(q, movedim(k, 1, 2))"
KEY_QUERY = "scores = matmul(k, movedim(q, 1, 2))"     # the Fall 2024 grader's K Q^T


@pytest.mark.parametrize("orientation, says", [
    (QUERY_KEY, "matches softmax(mask(QK^T/sqrt(C)))V on 6 random sizes (this version "
                "accepts both orientations"),
    (KEY_QUERY, "matches softmax(mask(KQ^T/sqrt(C)))V on 6 random sizes (this version "
                "accepts both orientations"),
])
def test_models_only_q6_accepts_both_orientations_and_says_which(tmp_path, orientation, says):
    folder = models_only(tmp_path / "s")
    models = folder / "models.py"
    text = models.read_text(encoding="utf-8")
    assert text.count(QUERY_KEY) == 1
    models.write_text(text.replace(QUERY_KEY, orientation), encoding="utf-8")
    process, results = grade(folder, tmp_path, "-q", "q6", "--course", "models-only-q6")
    assert results["questions"]["q6"]["points"] == 1, process.stdout
    assert says in messages(results, "q6")


def test_the_current_version_keeps_the_writeups_orientation(tmp_path):
    folder = make_submission(tmp_path / "s")
    models = folder / "models.py"
    text = models.read_text(encoding="utf-8")
    assert text.count(QUERY_KEY) == 1
    models.write_text(text.replace(QUERY_KEY, KEY_QUERY), encoding="utf-8")
    process, results = grade(folder, tmp_path, "-q", "q6")
    assert results["questions"]["q6"]["points"] == 0, process.stdout
    assert "Likely cause: Q and K come from the wrong layers" in messages(results, "q6")
