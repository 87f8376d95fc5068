"""``python -m grader calibrate`` (step 17): a solution's thresholded figures on N
seeds per question, the pass rate and the worst seed's margin, flagged where an
honest solution fails on some seeds; a CSV and a picture."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

from grader.instructor.grading.calibrate import Figure, csv_text, spreads, table
from helpers import REFERENCE, ROOT


def figure(seed: int, value: float | None, passed: bool) -> Figure:
    return Figure("q2", "train", "q2: train_regression: mean squared error on sin(x)", seed,
                  value, "loss", None, 0.02, passed, 1.0)


def test_a_check_that_fails_on_some_seeds_is_flagged_with_its_spread_and_margin():
    found = spreads([figure(0, 0.0262, False), figure(1, 0.0158, True),
                     figure(2, 0.0077, True)], seeds=3)
    spread, = found
    assert (spread.passes, spread.flagged) == (2, True)
    assert abs(spread.margin - (0.02 - 0.0262)) < 1e-12
    text = table(found)
    assert "<= 0.02" in text and "2/3" in text and "FAILS ON SOME SEEDS" in text
    assert "0.0077" in text and "0.0158" in text and "0.0262" in text


def test_a_seed_without_a_figure_counts_as_failing_and_all_passing_is_not_flagged():
    missing = spreads([figure(0, 0.01, True)], seeds=2)[0]
    assert missing.figures == (0.01, None) and missing.passes == 1 and missing.flagged
    steady = spreads([figure(0, 0.01, True), figure(1, 0.012, True)], seeds=2)[0]
    assert not steady.flagged and abs(steady.margin - 0.008) < 1e-12


def test_the_csv_has_a_row_per_check_and_seed():
    rows = list(csv.reader(io.StringIO(csv_text([figure(0, 0.0262, False),
                                                 figure(1, None, False)]))))
    assert rows[0][:5] == ["question", "check", "name", "seed", "figure"]
    assert rows[1][3:5] == ["0", "0.0262"] and rows[1][8] == "0"
    assert rows[2][4] == ""


def test_calibrate_trains_the_staff_solution_on_each_seed(tmp_path):
    out = tmp_path / "out"
    process = subprocess.run(
        [sys.executable, "-m", "grader", "calibrate", "--seeds", "2", "-q", "q1", "--out",
         str(out), "--isolation", "none", "--jobs", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stderr
    assert f"Training {REFERENCE} as current: q1 on seeds 0-1" in process.stderr
    assert "q1: train_perceptron: 100% training accuracy" in process.stdout
    assert "2/2" in process.stdout and "FAILS ON SOME SEEDS" not in process.stdout
    rows = list(csv.DictReader(io.StringIO((out / "calibrate.csv").read_text())))
    assert [(row["check"], row["seed"], row["passed"]) for row in rows] == [
        ("converge", "0", "1"), ("converge", "1", "1")]
    assert (out / "calibrate.png").stat().st_size > 1000


def test_calibrate_names_a_bad_option(tmp_path):
    for options, says in ((["--seeds", "0"], "--seeds must be at least 1"),
                          (["-q", "q9"], "current has no question q9"),
                          (["--student-dir", str(tmp_path / "none")], "is not a folder")):
        process = subprocess.run([sys.executable, "-m", "grader", "calibrate", *options,
                                  "--out", str(tmp_path / "out")],
                                 cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert process.returncode == 2 and says in process.stderr, process.stderr
        assert "Traceback" not in process.stderr
