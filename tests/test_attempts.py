"""--attempts (step 17): a question whose training check fails with its figure
measured is trained again on the next seeds and earns its best attempt, saying each
attempt's figure; --attempts 1 (the default) grades on the seed alone; bulk carries
the policy and names the questions graded on a retry."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

from helpers import ROOT, make_submission, messages, run_autograder

# A coin the seed decides: seed 0 trains, seed 1 does not, seed 2 does (the sign of
# the model's first weight, as the grader seeds it for q2).
COIN = """
_trained_well = train_regression


def train_regression(model, dataset):
    if next(model.parameters()).flatten()[0].item() > 0:
        return _trained_well(model, dataset)
"""
NEVER = """
def train_regression(model, dataset):
    pass
"""


def grade(tmp_path, student, *options):
    process, results = run_autograder("--student-dir", str(student), "--no-graphics", "--mute",
                                      "--isolation", "none", "-q", "q2",
                                      "--json", str(tmp_path / "r.json"), *options)
    assert results is not None, process.stdout + process.stderr
    return process, results


def test_a_seed_that_fails_is_retried_and_the_best_attempt_counts(tmp_path):
    student = make_submission(tmp_path / "coin", {"train.py": COIN})
    process, results = grade(tmp_path, student, "--seed", "1", "--attempts", "3")
    assert "trained again on seeds 2-3 (up to 3 attempts in all, --attempts)" in process.stdout
    q2 = results["questions"]["q2"]
    assert q2["points"] == 5, process.stdout
    assert q2["graded_seed"] == 2 and [a["seed"] for a in q2["attempts"]] == [1, 2]
    assert [a["points"] for a in q2["attempts"]] == [2, 5]
    text = messages(results, "q2")
    assert "2 attempts (--attempts): " in text and " on seed 1, " in text
    assert "on seed 2: graded on seed 2" in text


def test_one_attempt_is_todays_grade_and_a_pass_costs_no_retry(tmp_path):
    student = make_submission(tmp_path / "coin", {"train.py": COIN})
    _, once = grade(tmp_path, student, "--seed", "1")
    assert once["questions"]["q2"]["points"] == 2
    assert once["questions"]["q2"]["attempts"] == [] and "attempts" not in messages(once, "q2")
    _, passing = grade(tmp_path, student, "--seed", "0", "--attempts", "3")
    assert passing["questions"]["q2"]["points"] == 5
    assert passing["questions"]["q2"]["attempts"] == []         # trained once


def test_a_solution_that_never_passes_shows_every_attempts_figure(tmp_path):
    student = make_submission(tmp_path / "never", {"train.py": NEVER})
    process, results = grade(tmp_path, student, "--seed", "0", "--attempts", "3")
    q2 = results["questions"]["q2"]
    assert q2["points"] == 2 and q2["graded_seed"] == 0, process.stdout
    assert [a["seed"] for a in q2["attempts"]] == [0, 1, 2]
    text = messages(results, "q2")
    assert "3 attempts (--attempts): " in text and "on seed 2: graded on seed 0" in text


def test_bulk_passes_the_policy_and_names_the_questions_graded_on_a_retry(tmp_path):
    root = tmp_path / "class"
    make_submission(root / "coin", {"train.py": COIN})
    out = tmp_path / "out"
    process = subprocess.run(
        [sys.executable, "-m", "grader", "bulk", str(root), "--out", str(out), "-q", "q2",
         "--isolation", "none", "--seed", "1", "--attempts", "3"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stderr
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))
    coin = next(row for row in rows if row["id"] == "coin")
    assert (coin["q2"], coin["retried"]) == ("5", "q2 (seed 2)")
    record = json.loads((out / "results" / "coin.json").read_text(encoding="utf-8"))
    assert record["attempts"] == 3


def test_attempts_below_one_is_refused():
    process, _ = run_autograder("--student-dir", str(ROOT / "tests" / "reference"), "-q", "q1",
                                "--attempts", "0", "--no-graphics")
    assert process.returncode == 2 and "--attempts must be at least 1" in process.stderr


def test_gradescope_reads_the_policy_from_its_variable(monkeypatch):
    from grader.instructor.grading import gradescope
    for value, expected in (("3", 3), ("", 1), ("0", 1), ("two", 1)):
        monkeypatch.setenv(gradescope.ATTEMPTS_VARIABLE, value)
        assert gradescope.attempts() == expected
    monkeypatch.setenv(gradescope.ATTEMPTS_VARIABLE, "1")
    once = gradescope.run_timeout("current")
    monkeypatch.setenv(gradescope.ATTEMPTS_VARIABLE, "3")
    assert gradescope.run_timeout("current") - 600 == 3 * (once - 600)
