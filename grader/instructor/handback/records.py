"""The submissions of a bulk run that came from an LMS download, as ``python -m grader
export`` (grader/instructor/handback/export.py) hands them back: who each is on the LMS,
what it earned, and the link-free summary that goes into a comment.

A record of such a submission (OUT/results/<id>.json) holds ``"lms": {"system":
"canvas" | "moodle", "user_id", "name", "late", "set_aside"}``; its points are the
autograder's JSON in ``result`` (``total``, ``extra_credit``, ``questions``), present
when ``status`` is ``graded``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grader.instructor.reports.grades import graded_questions, load_records
from grader.instructor.common.submission import GRADED

LMS_NAMES = {"canvas": "Canvas", "moodle": "Moodle"}


class ExportError(Exception):
    """A usage problem; the message says what to change."""


# ------------------------------------------------------------------ the bulk run

def lms_records(out: Path, system: str) -> tuple[list[dict], list]:
    """(the records of OUT that came from ``system``'s download, the questions graded)."""
    if not out.is_dir():
        raise ExportError(f"{out} is not a folder; give the OUT folder of a bulk run")
    if not (out / "results").is_dir():
        raise ExportError(f"{out} is not a bulk run's folder (it has no results/); give "
                          "the folder you passed to `python -m grader bulk ... --out`")
    records = load_records(out)
    if not records:
        raise ExportError(f"{out}/results holds no graded submission; run bulk first")
    from_lms = [r for r in records if isinstance(r.get("lms"), dict)]
    if not from_lms:
        raise ExportError(
            f"none of the {len(records)} submissions in {out} came from an LMS download, so "
            "there is no LMS id to match them on; export needs a Canvas or Moodle download "
            "graded by bulk (python -m grader bulk DOWNLOAD --out OUT)")
    mine = [r for r in from_lms if r["lms"].get("system") == system]
    if not mine:
        other = LMS_NAMES.get(from_lms[0]["lms"].get("system"), "another LMS")
        raise ExportError(f"the submissions in {out} came from a {other} download, not "
                          f"{LMS_NAMES[system]}; use `python -m grader export "
                          f"{other.lower()} ...`")
    kept = {id(r) for r in mine}
    left = [r.get("id", "") for r in records if id(r) not in kept]
    if left:
        warn(f"{len(left)} submissions did not come from the {LMS_NAMES[system]} download "
             f"and are left out: {', '.join(left)}")
    return mine, graded_questions(records)


def who(record: dict) -> str:
    lms = record["lms"]
    return f"{lms.get('name') or record.get('id', '')} ({lms.get('system', '')} id {user_id(record)})"


def user_id(record: dict) -> str:
    return str(record["lms"].get("user_id", "")).strip()


def total_of(record: dict) -> float | None:
    """The points a graded submission earned; None where no grade may be written."""
    result = record.get("result")
    if record.get("status") != GRADED or not isinstance(result, dict):
        return None
    return float(result.get("total", 0))


def not_graded_reason(record: dict) -> str:
    problem = (record.get("problem") or "").strip()
    return f"{record.get('status', 'no result')}" + (f": {problem}" if problem else "")


def number(value: float) -> str:
    value = round(float(value), 2)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def possible_of(questions) -> float:
    return sum(q.points for q in questions if not q.extra_credit)


def summary(record: dict, questions, lines: bool = False) -> str:
    """Total and points per question, link-free: one line, or one line per question."""
    result = record.get("result") or {}
    earned = result.get("questions", {})
    parts = []
    for question in questions:
        entry = earned.get(question.id)
        if entry is None:
            continue
        extra = " (extra credit)" if question.extra_credit else ""
        parts.append(f"{question.id} {question.title}: {number(entry.get('points', 0))}/"
                     f"{number(entry.get('max', question.points))}{extra}")
    head = (f"Autograder: {number(result.get('total', 0))} of {number(possible_of(questions))}"
            " points")
    extra = float(result.get("extra_credit") or 0)
    if extra:
        head += f", including {number(extra)} extra credit"
    return head + (".\n" + "\n".join(parts) if lines else " (" + "; ".join(parts) + ").")


def warn(text: str) -> None:
    print(text, file=sys.stderr)
