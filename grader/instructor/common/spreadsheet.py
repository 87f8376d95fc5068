"""Cells of the CSV files written for people, who open them in a spreadsheet
(grades.csv, similarity.csv): text a submission chose (its folder or zip name, the
names and emails of an export's metadata, an LMS's ids) must never run as a formula.

OWASP's rule for CSV injection: a text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading ``'``, which spreadsheets read as
"this is text" and do not show. Numbers are written as they are (a mark of ``-1``
stays a number). Files an LMS imports back (Canvas's gradebook, Moodle's worksheet:
grader/instructor/handback/) keep the LMS's own format instead.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: object) -> str:
    """``value`` as a text cell that a spreadsheet shows and never runs."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
