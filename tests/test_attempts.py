"""--attempts (step 17): a question whose training check fails with its figure
measured near its threshold is trained again on the next seeds and earns its best
attempt, saying each attempt's figure; a figure out of reach is not retried; --attempts
1 grades on the seed alone, 3 is the default; bulk, Gradescope and a notebook carry
the policy and give autograder.py's grade."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

from helpers import ROOT, make_submission, messages, run_autograder

# A coin the seed decides: seed 0 trains well, seed 1 ends near the threshold (the
# staff fit shifted by 0.16: an error of about 0.027 against 0.02), seed 2 trains well
# (the sign of the model's first weight, as the grader seeds it for q2).
COIN = """
_trained_well = train_regression


def train_regression(model, dataset):
    lucky = next(model.parameters()).flatten()[0].item() > 0
    _trained_well(model, dataset)
    if not lucky:
        with no_grad():
            model.output.bias += 0.16
"""
# Near, and never passing: the staff fit with its output shifted by 0.16, an error of
# about 0.027 on every seed (the threshold is 0.02; out of reach above 0.06).
NEAR = """
_trained_well = train_regression


def train_regression(model, dataset):
    _trained_well(model, dataset)
    with no_grad():
        model.output.bias += 0.16
"""
# Far: never trained, an error of about 0.5.
FAR = """
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
    _, once = grade(tmp_path, student, "--seed", "1", "--attempts", "1")
    assert once["questions"]["q2"]["points"] == 2
    assert once["questions"]["q2"]["attempts"] == [] and "attempts" not in messages(once, "q2")
    process, passing = grade(tmp_path, student, "--seed", "0")      # the default: 3
    assert "(up to 3 attempts in all, --attempts)" in process.stdout
    assert passing["questions"]["q2"]["points"] == 5
    assert passing["questions"]["q2"]["attempts"] == []         # trained once


def test_a_solution_that_never_passes_shows_every_attempts_figure(tmp_path):
    student = make_submission(tmp_path / "near", {"train.py": NEAR})
    process, results = grade(tmp_path, student, "--seed", "0")
    q2 = results["questions"]["q2"]
    assert q2["points"] == 2 and q2["graded_seed"] == 0, process.stdout
    assert [a["seed"] for a in q2["attempts"]] == [0, 1, 2]
    text = messages(results, "q2")
    assert "3 attempts (--attempts): 0.02" in text and "on seed 2: graded on seed 0" in text


def test_a_figure_far_from_its_threshold_is_not_retried(tmp_path):
    student = make_submission(tmp_path / "far", {"train.py": FAR})
    process, results = grade(tmp_path, student, "--seed", "0", "--attempts", "3")
    q2 = results["questions"]["q2"]
    assert q2["points"] == 2 and q2["attempts"] == [], process.stdout
    assert ("not trained again on another seed (--attempts): " in messages(results, "q2")
            and "is too far from the threshold (at most 0.02)" in messages(results, "q2"))
    _, once = grade(tmp_path, student, "--seed", "0", "--attempts", "1")
    assert "not trained again" not in messages(once, "q2")


def test_reach_of_each_kind_of_figure():
    from grader.core.results import FRACTION, LOSS, CheckResult
    from grader.judge.grading import within_reach

    def figure(value, unit, at_least=None, at_most=None):
        return CheckResult("q", "train", "t", 3, 0, "failed", metric=value, unit=unit,
                           at_least=at_least, at_most=at_most)
    assert within_reach(figure(0.0262, LOSS, at_most=0.02))
    assert within_reach(figure(0.06, LOSS, at_most=0.02))
    assert not within_reach(figure(0.061, LOSS, at_most=0.02))
    assert within_reach(figure(0.75, FRACTION, at_least=0.81))
    assert not within_reach(figure(0.74, FRACTION, at_least=0.81))
    assert within_reach(figure(0.95, FRACTION, at_least=0.97), 0.02)
    assert not within_reach(figure(0.949, FRACTION, at_least=0.97), 0.02)
    assert not within_reach(figure(float("nan"), LOSS, at_most=0.02))
    assert not within_reach(figure(None, FRACTION, at_least=0.97))
    assert not within_reach(figure(0.5, FRACTION))                  # nothing to reach
    assert not within_reach(figure(0.001, LOSS, at_most=0.02))      # failed for another reason


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
    page = (out / "feedback" / "coin.html").read_text(encoding="utf-8")
    assert "2 attempts (--attempts): " in page and "graded on seed 2" in page


def test_attempts_below_one_is_refused():
    process, _ = run_autograder("--student-dir", str(ROOT / "tests" / "reference"), "-q", "q1",
                                "--attempts", "0", "--no-graphics")
    assert process.returncode == 2 and "--attempts must be at least 1" in process.stderr


def test_gradescope_reads_the_policy_from_its_variable(monkeypatch):
    from grader.instructor.grading import gradescope
    for value, expected in (("1", 1), ("5", 5), ("", 3), ("0", 3), ("two", 3)):
        monkeypatch.setenv(gradescope.ATTEMPTS_VARIABLE, value)
        assert gradescope.attempts() == expected
    monkeypatch.setenv(gradescope.ATTEMPTS_VARIABLE, "1")
    once = gradescope.run_timeout("current")
    monkeypatch.setenv(gradescope.ATTEMPTS_VARIABLE, "3")
    assert gradescope.run_timeout("current") - 600 == 3 * (once - 600)


# The coin the other way round: seed 0 ends near the threshold, seed 1 trains well.
COIN_AT_ZERO = COIN.replace("lucky = next", "lucky = not next")


def test_a_notebook_and_gradescope_get_the_grade_of_autograder_py(tmp_path):
    """At the default seed (0) and policy (3 attempts), the same code handed in as
    files, as a notebook (train.py's code in its cells) and through Gradescope's run
    earns 5/5 on seed 1."""
    from test_gradescope import autograder_root, run_autograder as run_gradescope

    from grader.instructor.release import gradescope_bundle

    files = make_submission(tmp_path / "files", {"train.py": COIN_AT_ZERO})
    _, by_files = grade(tmp_path, files)
    assert by_files["questions"]["q2"]["points"] == 5
    assert by_files["questions"]["q2"]["graded_seed"] == 1

    notebook = make_submission(tmp_path / "notebook", omit=("train.py",))
    code = (files / "train.py").read_text(encoding="utf-8")
    (notebook / "project.ipynb").write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None,
                   "outputs": [], "source": code}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    process, by_notebook = grade(tmp_path, notebook)
    q2 = by_notebook["questions"]["q2"]
    assert (q2["points"], q2["graded_seed"]) == (5, 1), process.stdout
    assert "graded on seed 1" in messages(by_notebook, "q2")

    bundle = gradescope_bundle.build_bundle(tmp_path / "autograder.zip")
    root = autograder_root(bundle, tmp_path / "gradescope")
    make_submission(root / "submission", {"train.py": COIN_AT_ZERO})
    results = run_gradescope(root, "q2")
    assert results["score"] == 5, results["output"]
    assert any("graded on seed 1" in test["output"] for test in results["tests"])
