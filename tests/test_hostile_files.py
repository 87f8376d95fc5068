"""Files a class download can carry that must cost only their own student (step 17b):
here, names a submission chooses that a spreadsheet would run as formulas. Every CSV
written for people neutralises them in text cells (OWASP: a leading ``'``) and leaves
numbers alone; the files an LMS imports back keep its own format."""

from __future__ import annotations

import csv
import io

import pytest

from grader.instructor.common.spreadsheet import text_cell
from grader.instructor.reports import grades
from grader.instructor.similarity import report
from grader.instructor.similarity.results import Code, Comparison, PairFile

FORMULAS = ['=HYPERLINK("http:x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_text_cell_that_a_spreadsheet_would_run_gets_a_quote(text):
    assert text_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["alice", "Doe, Jane", "a=b", "", "'quoted", "1e5"])
def test_other_text_is_written_as_it_is(text):
    assert text_cell(text) == text
    assert text_cell(None) == ""


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_grades_csv_quotes_the_names_a_submission_chose_and_keeps_numbers():
    records = [{"id": FORMULAS[0], "status": "graded", "seconds": 1.5, "seed": 0,
                "submitters": [{"name": "+Ada", "email": "@ada", "sid": "-17"}],
                "lms": {"system": "canvas", "user_id": "=1+2", "late": False},
                "result": {"course": "current", "total": -1.0,
                           "questions": {"q1": {"points": -1.0, "max": 5}}}}]
    table = rows(grades.csv_text(records))
    header, possible, row = table[0], table[1], table[2]
    cell = dict(zip(header, row))
    assert cell["id"] == "'" + FORMULAS[0]
    assert (cell["name"], cell["email"], cell["sid"]) == ("'+Ada", "'@ada", "'-17")
    assert cell["lms_id"] == "'=1+2"
    assert cell["q1"] == "-1" and cell["total"] == "-1"      # numbers are numbers
    assert cell["status"] == "graded" and cell["course"] == "current"
    assert possible[0] == "points possible"


def test_similarity_csv_quotes_the_ids(tmp_path):
    pair = PairFile("-rm", "@bob", "models.py", 0.9, 0.8, 3, True)
    code = {(owner, "models.py"): Code(owner, "models.py", "x = 1\n")
            for owner in ("-rm", "@bob")}
    comparison = Comparison(pairs=[pair], code=code, threshold=0.5,
                            best={"-rm": 0.9, "@bob": 0.8}, files=("models.py",))
    report.write_report(tmp_path, comparison)
    table = rows((tmp_path / report.CSV_NAME).read_text(encoding="utf-8"))
    assert table[1][:3] == ["'-rm", "'@bob", "models.py"]
    assert table[1][3:5] == ["0.900", "0.800"]
