"""The reports of a bulk run (grader/instructor/grading/bulk.py): ``grades.csv``, ``summary.png``
and the HTML pages (grader/instructor/reports/feedback.py), rebuilt from the per-submission
results in OUTDIR/results/ after every run and by ``python -m grader merge``."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

from grader.core.table import Question
from grader.instructor.common.records import graded_questions, load_records, records_course
from grader.instructor.common.spreadsheet import text_cell
from grader.instructor.common.submission import GRADED, GRADER_ERROR, NO_FILES
from grader.instructor.reports import feedback
from grader.judge.report import atomic_write

STATUS_ORDER = (GRADED, GRADER_ERROR, "unreadable", NO_FILES)


def _retried(result: dict | None) -> str:
    """The questions graded on a retry (--attempts), each with the seed that counted:
    'q2 (seed 1)'; '' when none was."""
    found = []
    for question, entry in ((result or {}).get("questions") or {}).items():
        if isinstance(entry, dict) and entry.get("attempts") and \
                entry.get("graded_seed") != result.get("seed"):
            found.append(f"{question} (seed {entry.get('graded_seed')})")
    return " ".join(found)


def csv_text(records: list[dict]) -> str:
    """grades.csv: a row of points possible, then one row per student (a group
    submission gives one row per member). From Canvas or Moodle, two more columns
    after sid: the student's LMS id and whether the LMS marked the work late. Text
    cells never run as formulas (common/spreadsheet.py)."""
    questions = graded_questions(records)
    ids = [question.id for question in questions]
    from_lms = any(record.get("lms") for record in records)
    lms_columns = ["lms_id", "late"] if from_lms else []
    header = ["id", "name", "email", "sid", *lms_columns, *ids, "total", "status",
              "seconds", "seed", "retried", "grader_version", "course", "recognised_as"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    # Extra credit is counted in a student's total, not in the total possible.
    writer.writerow(["points possible", "", "", "", *[""] * len(lms_columns),
                     *[_number(q.points) for q in questions],
                     _number(sum(q.points for q in questions if not q.extra_credit)),
                     "", "", "", "", "", records_course(records), ""])
    for record in records:
        result = record.get("result") if record.get("status") == GRADED else None
        questions = (result or {}).get("questions", {})
        points = [_number(questions[q]["points"]) if q in questions else "" for q in ids]
        total = _number(result["total"]) if result else ""
        if record.get("status") in (NO_FILES, "unreadable"):
            points, total = ["0"] * len(ids), "0"
        people = record.get("submitters") or [{}]
        lms = record.get("lms") or {}
        marks = [lms.get("user_id", ""), ("yes" if lms.get("late") else "no") if lms else ""]
        for person in people:
            # Text from the submission (names, ids) as text cells; numbers as they are.
            writer.writerow([text_cell(record.get("id", "")), text_cell(person.get("name", "")),
                             text_cell(person.get("email", "")),
                             text_cell(person.get("sid", "")),
                             *map(text_cell, marks[:len(lms_columns)]), *points, total,
                             text_cell(record.get("status", "")), record.get("seconds", ""),
                             record.get("seed", ""), _retried(result),
                             text_cell(record.get("grader_version", "")),
                             text_cell((result or {}).get("course") or record.get("course")
                                       or ""),
                             text_cell(record.get("recognised_as", ""))])
    return buffer.getvalue()


def _number(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def summary(records: list[dict]) -> tuple[str, dict]:
    """The numbers of summary.png, as text and as values."""
    graded = [r for r in records if r.get("status") == GRADED and r.get("result")]
    totals = [float(r["result"]["total"]) for r in graded]
    pass_rates = {}
    for question in graded_questions(records):
        earned = [r["result"]["questions"][question.id] for r in graded
                  if question.id in r["result"].get("questions", {})]
        if earned and question.points:
            pass_rates[question.id] = sum(q["points"] >= q["max"] for q in earned) / len(earned)
    counts = {}
    for record in records:
        counts[record.get("status", "")] = counts.get(record.get("status", ""), 0) + 1
    lines = [f"{len(records)} submissions: " + ", ".join(f"{n} {s}" for s, n in sorted(
        counts.items()))]
    if totals:
        lines.append(f"totals: mean {sum(totals) / len(totals):.2f}, min {min(totals):g}, "
                     f"max {max(totals):g}")
    lines += [f"{q}: {rate:.0%} earned full marks" for q, rate in pass_rates.items()]
    late = sum(bool((record.get("lms") or {}).get("late")) for record in records)
    if any(record.get("lms") for record in records):
        lines.append(f"{late} marked late by the LMS (grades.csv's late column): no late "
                     "penalty is applied")
    return "\n".join(lines), {"totals": totals, "pass_rates": pass_rates}


def summary_figure(numbers: dict, possible: float):
    """The figure of summary.png: a histogram of totals, full marks per question."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    figure = Figure(figsize=(9, 3.6), dpi=100)
    left, right = figure.subplots(1, 2)
    left.hist(numbers["totals"] or [0], bins=range(0, int(possible) + 2), color="#0072B2",
              edgecolor="white")
    left.set(title="Totals", xlabel=f"points (of {possible:g})", ylabel="submissions")
    left.yaxis.set_major_locator(MaxNLocator(integer=True))     # counts are whole
    rates = numbers["pass_rates"]
    right.bar(list(rates), [100 * v for v in rates.values()], color="#009E73")
    right.set(title="Full marks per question", ylabel="% of graded submissions", ylim=(0, 100))
    figure.tight_layout()
    return figure


def write_summary_png(path: Path, numbers: dict, possible: float) -> None:
    figure = summary_figure(numbers, possible)
    partial = path.with_name(path.name + ".partial")
    figure.savefig(partial, format="png")
    os.replace(partial, path)


@dataclass
class ClassTable:
    """The run as a whole, for the index and each page."""
    course: str
    questions: list[Question]
    possible: float
    statuses: dict[str, int]
    pass_rates: dict[str, float]
    totals: list[float]
    count: int
    mismatched: int      # submissions recognised as another course version


def class_table(records: list[dict]) -> ClassTable:
    _, numbers = summary(records)
    questions = graded_questions(records)
    statuses: dict[str, int] = {}
    for record in records:
        statuses[record.get("status", "")] = statuses.get(record.get("status", ""), 0) + 1
    ordered = {s: statuses[s] for s in STATUS_ORDER if s in statuses}
    ordered.update({s: n for s, n in sorted(statuses.items()) if s not in ordered})
    return ClassTable(course=records_course(records), questions=questions,
                      possible=sum(q.points for q in questions if not q.extra_credit),
                      statuses=ordered, pass_rates=numbers["pass_rates"],
                      totals=numbers["totals"], count=len(records),
                      mismatched=sum(1 for r in records if r.get("recognised_as")))


def rebuild_reports(out: Path, figures: str = "key") -> str:
    """grades.csv, summary.png, then index.html and feedback/<id>.html; returns the
    summary as text."""
    records = load_records(out)
    atomic_write(out / "grades.csv", csv_text(records))
    text, numbers = summary(records)
    write_summary_png(out / "summary.png", numbers,
                      sum(q.points for q in graded_questions(records) if not q.extra_credit))
    pages = feedback.write_pages(out, records, class_table(records), figures)
    return text + f"\n{pages} feedback pages in {out / 'feedback'}; the class: {out / 'index.html'}"


def rebuild_index(out: Path) -> Path | None:
    """index.html alone, from OUTDIR/results/ (after a similarity report, so that the
    index links it); None where OUTDIR holds no graded results."""
    if not (out / "results").is_dir():
        return None
    records = load_records(out)
    return feedback.write_index(out, records, class_table(records))
