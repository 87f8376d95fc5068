"""The records of a bulk run's OUT folder (``OUT/results/<id>.json``, one per
submission, written by grader/instructor/grading/bulk.py): read back, with the course
version and the questions they were graded on. The reports and the LMS exports read
them."""

from __future__ import annotations

import json
from pathlib import Path

from grader import assignments


def load_records(out: Path) -> list[dict]:
    records = []
    for path in sorted((out / "results").glob("*.json")):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue   # a damaged file is redone by the next run
    return sorted(records, key=lambda record: record.get("id", ""))


def records_course(records: list[dict]) -> str:
    """The assignment (course version) of the table: --course if given, else the
    one most submissions were recognised as (each row names its own)."""
    named = [record.get("course") or ((record.get("result") or {}).get("course"))
             for record in records]
    named = [name for name in named if name in assignments.names()]
    # On a tie, the first in registry order (the same on every run).
    return max((name for name in assignments.names() if name in named),
               key=named.count, default=assignments.default_name())


def graded_questions(records: list[dict]) -> list:
    """The questions these records were graded on (all unless -q chose some)."""
    questions = assignments.get(records_course(records)).questions
    chosen = {q for record in records for q in record.get("questions") or ()}
    return [q for q in questions if q.id in chosen] if chosen else list(questions)
