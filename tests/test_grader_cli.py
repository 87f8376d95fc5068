"""The autograder end to end, through its real command line."""

import json

from helpers import REFERENCE, copy_project, make_submission, messages, run_autograder


def test_reference_solution_earns_full_marks(tmp_path):
    results_file = tmp_path / "gradescope.json"
    process, results = run_autograder(
        "--student-dir", str(REFERENCE), "--no-graphics", "--json", str(tmp_path / "r.json"),
        "--gradescope-output", "--results-file", str(results_file), "--enforce-imports")
    assert process.returncode == 0, process.stdout + process.stderr
    assert "Total: 25/25" in process.stdout
    assert results["total"] == 25 and results["max"] == 25
    for test in results["tests"]:
        assert test["status"] == "passed", test
    # Gradescope's format: a score, the run's text, one entry per check.
    gradescope = json.loads(results_file.read_text())
    assert gradescope["score"] == 25
    assert "Provisional grades" in gradescope["output"]
    assert {"name", "number", "score", "max_score", "status", "output"} <= set(gradescope["tests"][0])
    assert sum(t["max_score"] for t in gradescope["tests"]) == 25


def test_skeleton_earns_zero_with_a_message_per_question(tmp_path):
    process, results = run_autograder("--no-graphics", "--json", str(tmp_path / "r.json"))
    assert process.returncode == 0, process.stderr
    assert "Total: 0/25" in process.stdout
    for question in ("q1", "q2", "q3", "q4", "q5", "q6"):
        text = messages(results, question)
        assert "skeleton" in text, (question, text)
        assert f"### Question {question}: 0/" in process.stdout
    assert "q6 must earn full marks first" in messages(results, "q7")
    assert "Traceback" not in process.stdout + process.stderr


def test_question_seven_alone_ignores_its_prerequisite(tmp_path):
    process, results = run_autograder("-q", "q7", "--no-graphics", "--json", str(tmp_path / "r.json"))
    assert "must earn full marks first" not in process.stdout
    assert "gpt_model.Character_GPT.forward returned None: it is still the skeleton" \
        in messages(results, "q7")


def test_same_submission_and_seed_give_the_same_grade(tmp_path):
    runs = []
    for attempt in range(2):
        _, results = run_autograder("-q", "q1,q2,q5,q6", "--student-dir", str(REFERENCE),
                                    "--no-graphics", "--seed", "7",
                                    "--json", str(tmp_path / f"r{attempt}.json"))
        runs.append([(t["name"], t["points"], t["metric"]) for t in results["tests"]])
    assert runs[0] == runs[1]
    assert results["seed"] == 7


def test_seed_is_printed(tmp_path):
    process, _ = run_autograder("-q", "q6", "--no-graphics", "--seed", "123")
    assert "seed 123" in process.stdout


def test_name_variants_of_the_course_are_accepted(tmp_path):
    student = make_submission(tmp_path / "student", {
        "models.py": "del AttentionBlock",                 # only `Attention` is left
        "losses.py": "del digitconvolution_loss",          # only `digitconvolution_Loss`
        "train.py": "del train_digitconvolution"})         # only `Train_DigitConvolution`
    process, results = run_autograder("-q", "q5,q6,q7", "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"))
    assert all(t["status"] == "passed" for t in results["tests"]), process.stdout


def test_missing_files_count_as_not_submitted(tmp_path):
    student = make_submission(tmp_path / "student", omit=("losses.py", "gpt_model.py"))
    process, results = run_autograder("-q", "q1,q2,q7", "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"))
    # q1 needs only models.py and train.py (train.py's import of losses is stood in for).
    assert results["questions"]["q1"]["points"] == 5, process.stdout
    assert results["questions"]["q2"]["points"] == 0
    assert "losses.py was not submitted" in messages(results, "q2")
    assert "gpt_model.py was not submitted" in messages(results, "q7")


def test_added_imports_warn_by_default_and_fail_when_enforced(tmp_path):
    student = make_submission(tmp_path / "student", {"train.py": "import torch\nimport numpy as np"})
    process, results = run_autograder("-q", "q1,q6", "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"))
    assert results["questions"]["q1"]["points"] == 5
    assert "train.py: `import torch` is not one of the skeleton's imports" in process.stdout
    assert "train.py: `import numpy` is not one of the skeleton's imports" in process.stdout
    process, results = run_autograder("-q", "q1,q6", "--student-dir", str(student),
                                      "--no-graphics", "--enforce-imports",
                                      "--json", str(tmp_path / "r2.json"))
    assert results["questions"]["q1"]["points"] == 0
    assert "--enforce-imports" in messages(results, "q1")
    assert results["questions"]["q6"]["points"] == 2    # models.py is unchanged


def test_fractional_points_print_correctly():
    from grader.core.results import format_points
    assert [format_points(v) for v in (5, 2.5, 0.5, 0, 1 / 3)] == ["5", "2.5", "0.5", "0", "0.33"]


def test_bad_flags_give_a_usage_message():
    process, _ = run_autograder("-q", "q9")
    assert process.returncode == 2
    assert "there is no question 'q9'" in process.stderr
    process, _ = run_autograder("--student-dir", "/no/such/folder")
    assert process.returncode == 2 and "is not a folder" in process.stderr


def test_damaged_data_stops_grading_with_instructions(tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "data" / "lang_id.npz").write_bytes(b"damaged")
    process, _ = run_autograder("-q", "q1", "--no-graphics", project=project)
    assert process.returncode == 2
    assert "lang_id.npz differs from the file the project ships" in process.stderr
    assert "Traceback" not in process.stderr


def test_edx_output_is_written(tmp_path):
    process, _ = run_autograder("-q", "q6", "--student-dir", str(REFERENCE), "--no-graphics",
                                "--edx-output", cwd=tmp_path)
    assert "Total: 2/2" in (tmp_path / "edx_response.html").read_text()


def test_plots_are_saved_without_a_display(tmp_path):
    process, _ = run_autograder("-q", "q1,q2", "--student-dir", str(REFERENCE),
                                "--save-plots", str(tmp_path / "plots"))
    assert (tmp_path / "plots" / "q1.png").stat().st_size > 1000, process.stdout
    assert (tmp_path / "plots" / "q2.png").stat().st_size > 1000
