"""HTML from a bulk run: a feedback page per submission and the class at a glance.

    OUTDIR/feedback/<id>.html   one self-contained page per submission (styles and
                                figures inline, no script, no network): who, which
                                course version, seed and grader version, where the
                                graded code came from when notebooks or scripts were
                                read (and what of them was left out), then each
                                question's checks with their points, the measured
                                figure, the message and hint, the student's own output
                                and the question's figures from --save-plots
    OUTDIR/index.html           totals, full marks per question, the most common
                                failures, the slowest submissions, every status that
                                is not `graded`, and a sortable table linking each page
                                (and similarity.html, where a similarity report is)

Both are rebuilt from OUTDIR/results/ (with output/ and plots/) whenever grades.csv
is (grader/instructor/reports/grades.py), so ``merge`` writes them too. The pages come
from Jinja2 templates (grader/instructor/reports/templates/) with autoescaping on: everything
a student wrote reaches the page as text.
"""

from __future__ import annotations

import base64
import re
from collections import Counter, defaultdict
from pathlib import Path

from grader.core.results import format_figure, format_requirement
from grader.figures.html import png_within
from grader.instructor.common.submission import GRADED, safe_name
from grader.judge.report import atomic_write

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Characters of base64 for all of one page's figures together: a page stays small
# enough to e-mail or upload (a figure that does not fit is shrunk, then left out).
FIGURE_BUDGET = 600_000
FIGURE_CHOICES = ("key", "all", "none")
COMMON_FAILURES = 5       # per question, on the index
SLOWEST = 5
SIMILARITY_PAGE = "similarity.html"     # grader/instructor/similarity/pages.py
# A number: 5,000 is one (a comma before three digits), "1, 3" two.
NUMBER = re.compile(r"[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?(e[-+]?\d+)?%?", re.IGNORECASE)
PATH = re.compile(r"(?<![\w.])/[^\s()'\"]+")      # a file's absolute path
CODE_START = re.compile(r"`|(?<![\w.])[A-Za-z_][\w.]*\(")   # a quoted span or a call


class MissingJinja(RuntimeError):
    """Jinja2 (the instructor extra) is not installed."""


def environment():
    try:
        import jinja2
    except ImportError as error:
        raise MissingJinja("the HTML pages need Jinja2, an instructor extra: "
                           "python -m pip install -e \".[instructor]\"") from error
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["points"] = _points
    env.filters["percent"] = lambda value: f"{100 * value:.0f}%"
    return env


def write_pages(out: Path, records: list[dict], table, figures: str = "key") -> int:
    """Write every submission's page and the index; returns the number of pages.
    ``table`` is the run's summary (bulk_reports.ClassTable); ``figures`` is one of
    FIGURE_CHOICES."""
    env = environment()
    page = env.get_template("feedback.html")
    folder = out / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    written = set()
    for record in records:
        view = submission_view(out, record, table, figures)
        atomic_write(folder / view["page"], page.render(s=view, table=table))
        written.add(view["page"])
    for stale in folder.glob("*.html"):       # submissions no longer in results/
        if stale.name not in written:
            stale.unlink()
    write_index(out, records, table, env)
    return len(written)


def write_index(out: Path, records: list[dict], table, env=None) -> Path:
    """OUTDIR/index.html alone (the similarity report re-renders it to add its link:
    similarity.html is linked whenever it is in OUTDIR when the index is rendered)."""
    env = env or environment()
    summary_png = out / "summary.png"
    index = env.get_template("index.html").render(
        table=table, rows=[submission_view(out, r, table, "none") for r in records],
        failures=common_failures(records, table), slowest=slowest(records),
        summary_png=_data_uri(summary_png.read_bytes()) if summary_png.is_file() else "",
        similarity=(out / SIMILARITY_PAGE).is_file())
    atomic_write(out / "index.html", index)
    return out / "index.html"


def page_name(record: dict) -> str:
    return safe_name(record.get("id", "")) + ".html"


def submission_view(out: Path, record: dict, table, figures: str) -> dict:
    """What one page shows, as plain values (the template only lays them out)."""
    result = record.get("result") if record.get("status") == GRADED else None
    key = safe_name(record.get("id", ""))
    questions = []
    if result:
        tests = result.get("tests", [])
        for question in table.questions:
            entry = result.get("questions", {}).get(question.id)
            if entry is None:
                continue
            checks = [_check_view(test) for test in tests if test.get("question") == question.id]
            questions.append({
                "id": question.id, "title": question.title, "points": entry.get("points", 0),
                "max": entry.get("max", question.points),
                "extra_credit": bool(entry.get("extra_credit")),
                "full": entry.get("points", 0) >= entry.get("max", question.points),
                "warnings": entry.get("warnings", []), "checks": checks,
                "output": entry.get("output", ""),
                "output_cut": entry.get("output_bytes", 0) > len(
                    entry.get("output", "").encode("utf-8")),
                "figures": [], "figure_names": entry.get("figures", [])})
        if figures != "none":
            _attach_figures(out / "plots" / key, questions, figures)
    points = {q["id"]: q["points"] for q in questions}
    return {
        "id": record.get("id", ""), "page": key + ".html",
        "submitters": record.get("submitters") or [],
        "names": ", ".join(p.get("name", "") for p in record.get("submitters") or []
                           if p.get("name")),
        "status": record.get("status", ""), "problem": record.get("problem", ""),
        "course": (result or {}).get("course") or record.get("course") or table.course,
        "recognised_as": record.get("recognised_as") or "",
        "seed": record.get("seed", ""), "grader_version": record.get("grader_version", ""),
        "seconds": record.get("seconds"), "total": (result or {}).get("total"),
        "possible": table.possible, "points": points, "questions": questions,
        "files": record.get("files", []),
        **_handed_in_view((result or {}).get("handed_in")),
    }


def _handed_in_view(handed_in) -> dict:
    """What the page says about notebooks and scripts read in place of the expected
    files (the judge's JSON ``handed_in``, grader/core/handed_in.py): where each
    module's names came from, what was left out or ignored, and the warnings."""
    if not isinstance(handed_in, dict):
        return {"provenance": [], "handed_in_notes": [], "handed_in_warnings": []}
    modules = handed_in.get("modules") if isinstance(handed_in.get("modules"), dict) else {}
    provenance = [str(m.get("provenance", "")) for m in modules.values()
                  if isinstance(m, dict) and m.get("provenance")]
    notes = [str(note) for note in handed_in.get("notes") or [] if str(note) not in provenance]
    return {"provenance": provenance, "handed_in_notes": notes,
            "handed_in_warnings": [str(w) for w in handed_in.get("warnings") or []]}


def _check_view(test: dict) -> dict:
    lines = str(test.get("message", "")).splitlines()
    hints = [line[len("Hint:"):].strip() for line in lines if line.startswith("Hint:")]
    message = "\n".join(line for line in lines if not line.startswith("Hint:"))
    title = str(test.get("name", ""))
    title = title.split(": ", 1)[1] if ": " in title else title
    return {"title": title, "key": test.get("check", ""), "status": test.get("status", ""),
            "passed": test.get("status") == "passed", "points": test.get("points", 0),
            "max": test.get("max", 0), "extra_credit": bool(test.get("extra_credit")),
            "metric": test.get("metric"), **_figure_view(test),
            "message": message, "hints": hints}


def _figure_view(test: dict) -> dict:
    """The measured figure in the unit its check recorded ('100.00%'), and what it
    had to be ('100%', 'at most 0.02'); results without a unit show the bare number."""
    metric, unit = test.get("metric"), str(test.get("unit") or "")
    if not isinstance(metric, (int, float)):
        return {"figure": "", "required": ""}
    bounds = [test.get(key) if isinstance(test.get(key), (int, float)) else None
              for key in ("at_least", "at_most")]
    return {"figure": format_figure(float(metric), unit),
            "required": format_requirement(unit, *bounds)}


def _attach_figures(folder: Path, questions: list[dict], figures: str) -> None:
    """Inline each question's key figure (or all of them), shrunk to share the page's
    budget; a figure that does not fit is named instead."""
    wanted = []
    for question in questions:
        names = question["figure_names"][:1] if figures == "key" else question["figure_names"]
        wanted += [(question, name) for name in names]
    left = FIGURE_BUDGET
    for position, (question, name) in enumerate(wanted):
        share = left // (len(wanted) - position)
        png = png_within(folder / name, share)
        if png is None:
            question["figures"].append({"name": name, "uri": ""})
            continue
        uri = _data_uri(png)
        left -= len(uri)
        question["figures"].append({"name": name, "uri": uri})


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def failure_kind(message: str) -> str:
    """A failure message with its numbers and paths taken out, so that "accuracy
    91.2%" and "accuracy 88.0%" count as one kind; its first line only. Numbers in
    code (a `quoted` span, a call such as `Parameter(ones(1, 3))`) are kept: they say
    what the code was."""
    first = PATH.sub("...", (message.strip().splitlines() or [""])[0])
    parts, done = [], 0
    for start, end in code_spans(first):
        parts += [NUMBER.sub("#", first[done:start]), first[start:end]]
        done = end
    parts.append(NUMBER.sub("#", first[done:]))
    return "".join(parts)[:200]


def code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each piece of code in ``text``, in order: a span in backticks,
    or a call (a name, maybe dotted, then its parenthesised arguments, nested
    parentheses included; an unclosed one runs to the end)."""
    spans, position = [], 0
    while True:
        found = CODE_START.search(text, position)
        if found is None:
            return spans
        if found.group() == "`":
            close = text.find("`", found.end())
            end = len(text) if close < 0 else close + 1
        else:
            depth, end = 0, len(text)
            for index in range(found.end() - 1, len(text)):
                depth += {"(": 1, ")": -1}.get(text[index], 0)
                if depth == 0:
                    end = index + 1
                    break
        spans.append((found.start(), end))
        position = end


def common_failures(records: list[dict], table) -> list[dict]:
    """Per question, the most common (check, kind of failure) with their counts and a
    few submissions that had each."""
    found: dict[str, Counter] = defaultdict(Counter)
    who: dict[tuple, list[dict]] = defaultdict(list)
    for record in records:
        result = record.get("result") if record.get("status") == GRADED else None
        for test in (result or {}).get("tests", []):
            if test.get("status") == "passed":
                continue
            check = _check_view(test)
            key = (check["title"], failure_kind(check["message"]))
            found[test.get("question", "")][key] += 1
            who[(test.get("question", ""), *key)].append(
                {"id": record.get("id", ""), "page": page_name(record)})
    listed = []
    for question in table.questions:
        counts = found.get(question.id)
        if not counts:
            continue
        kinds = [{"check": check, "kind": kind, "count": count,
                  "examples": who[(question.id, check, kind)][:5]}
                 for (check, kind), count in counts.most_common(COMMON_FAILURES)]
        listed.append({"id": question.id, "title": question.title, "kinds": kinds})
    return listed


def slowest(records: list[dict]) -> list[dict]:
    timed = [r for r in records if isinstance(r.get("seconds"), (int, float))]
    timed.sort(key=lambda r: -r["seconds"])
    return [{"id": r.get("id", ""), "page": page_name(r), "seconds": r["seconds"],
             "status": r.get("status", "")} for r in timed[:SLOWEST]]


def _points(value) -> str:
    if value is None or value == "":
        return ""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"
