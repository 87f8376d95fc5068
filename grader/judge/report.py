"""Everything the grader prints or writes: the text students know, JSON for scripts,
Gradescope's results.json and edX's response file."""

from __future__ import annotations

import html
import json
import os
import sys
import time
from pathlib import Path

from grader.core.results import PASSED, QuestionResult, format_points
from grader.core.table import Question
from grader.figures.html import EMBED_BUDGET, embed_figures
from grader.judge.imports_check import ImportWarnings

SIDE_BY_SIDE_FACTOR = 1.1   # questions' times adding up to more than the run's: said


def format_seconds(seconds: float) -> str:
    """4.2 s, 42 s or 3 min 05 s."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def run_time(added: float, seconds: float | None) -> str:
    """How long the run took on the clock; the questions' times added up are said
    only when they differ from it, because questions were graded side by side."""
    if seconds is None:
        return f"{format_seconds(added)} added up"
    text = f"the run took {format_seconds(seconds)}"
    if added > seconds * SIDE_BY_SIDE_FACTOR:
        text += (f"; the questions' times add up to {format_seconds(added)} because some "
                 "were graded side by side")
    return text


def _extra(result: QuestionResult) -> str:
    if result.question.extra_credit:
        return " (extra credit)"
    if any(check.extra_credit for check in result.checks) and result.extra:
        return f" (including {format_points(result.extra)} extra credit)"
    return ""


def totals(results: list[QuestionResult]) -> tuple[float, float, float]:
    """(points earned, points possible, extra credit earned): extra credit counts in
    the points earned, above the base total it is not part of."""
    earned = sum(r.points for r in results)
    possible = sum(r.max_points for r in results if not r.question.extra_credit)
    extra = sum(r.extra for r in results)
    return earned, possible, extra


class Reporter:
    """Prints the familiar autograder text and keeps a copy for result files."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.lines: list[str] = []
        self.started = time.time()

    def say(self, text: str = "") -> None:
        self.lines.append(text)
        self.stream.write(text + "\n")
        self.stream.flush()

    def emit(self, text: str, lines: list[str]) -> None:
        """Print a block another Reporter collected (a question graded beside
        others); ``lines`` are its report lines, kept for result files."""
        self.lines.extend(lines)
        self.stream.write(text)
        self.stream.flush()

    def begin(self, seed: int, student_dir: Path | str, notes: list[str],
              import_warnings: ImportWarnings | None = None, warnings=()) -> None:
        self.say(f"Starting on {time.strftime('%m-%d at %H:%M:%S')} (seed {seed}, "
                 f"grading the files in {student_dir})")
        for note in notes:
            self.say(f"Note: {note}")
        for warning in warnings:   # e.g. a notebook cell with a syntax error
            self.say(f"*** Warning: {warning}")
        if import_warnings:
            self.say(f"Note: {import_warnings.intro()}")
            for message in import_warnings.for_files(sorted(import_warnings.by_file)):
                self.say(f"*** Warning: {message}")

    def question_started(self, question: Question) -> None:
        self.say()
        self.say(f"Question {question.id}")
        self.say("=" * (9 + len(question.id)))

    def question_finished(self, result: QuestionResult) -> None:
        for note in result.notes:
            self.say(f"*** Warning: {note}")
        previous = None
        for check in result.checks:
            label = "PASS" if check.status == PASSED else "FAIL"
            if check.status == "skipped":
                label = "SKIP"
            self.say(f"*** {label}: {check.title} "
                     f"({format_points(check.points)}/{format_points(check.max_points)}"
                     + (" extra credit)" if check.extra_credit else ")"))
            if check.message == previous and check.status != PASSED:
                self.say("***     (the same as above)")
                continue
            for line in check.message.splitlines():
                self.say(f"***     {line}")
            previous = check.message
        self.say()
        self.say(f"### Question {result.question.id}: {format_points(result.points)}/"
                 f"{format_points(result.max_points)}{_extra(result)} ###")
        if result.seconds:
            self.say(f"(graded in {format_seconds(result.seconds)})")

    def summary(self, results: list[QuestionResult], seconds: float | None = None) -> None:
        """The closing block; ``seconds``: how long the run took on the clock."""
        self.say()
        self.say(f"Finished at {time.strftime('%H:%M:%S')}")
        self.say()
        self.say("Provisional grades")
        self.say("==================")
        for result in results:
            self.say(f"Question {result.question.id}: {format_points(result.points)}/"
                     f"{format_points(result.max_points)}{_extra(result)}")
        self.say("------------------")
        total, possible, extra = totals(results)
        self.say(f"Total: {format_points(total)}/{format_points(possible)}"
                 + (f" (including {format_points(extra)} extra credit)" if extra else ""))
        timed = [r for r in results if r.seconds]
        if timed:
            self.say("Time per question: " + ", ".join(
                f"{r.question.id} {format_seconds(r.seconds)}" for r in timed)
                + f" ({run_time(sum(r.seconds for r in timed), seconds)})")
        self.say()
        self.say("Your grades are NOT yet registered. To register your grades, make sure to "
                 "follow your instructor's guidelines to receive credit on your project.")
        self.say()

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_json(path: Path, results: list[QuestionResult], seed: int, student_dir: Path | str,
               seconds: float, course: str = "current", handed_in: dict | None = None) -> None:
    """Machine-readable results: one entry per check, plus totals."""
    tests = []
    for result in results:
        for check in result.checks:
            tests.append({"name": check.name, "question": check.question, "check": check.key,
                          "points": check.points, "max": check.max_points,
                          "extra_credit": result.question.extra_credit or check.extra_credit,
                          "status": check.status, "message": check.message,
                          "metric": check.metric, "seconds": round(check.seconds, 2),
                          # what metric measures, and what it had to reach (or stay within)
                          "unit": check.unit, "at_least": check.at_least,
                          "at_most": check.at_most})
    document = {
        "seed": seed,
        "course": course,
        "student_dir": str(student_dir),
        "total": totals(results)[0],
        "max": totals(results)[1],
        "extra_credit": totals(results)[2],
        "seconds": round(seconds, 2),
        "questions": {r.question.id: {"points": r.points, "max": r.max_points,
                                      "extra_credit": r.question.extra_credit,
                                      "seconds": round(r.seconds, 2),
                                      "warnings": list(r.warnings),
                                      "figures": [Path(f).name for f in r.figures],
                                      "output_bytes": r.output_bytes,
                                      "output": r.output,
                                      # --attempts: every attempt's run seed and points
                                      "attempts": [{"seed": seed, "points": points}
                                                   for seed, points in r.attempts],
                                      "graded_seed": seed if r.graded_seed is None
                                      else r.graded_seed}
                      for r in results},
        "tests": tests,
    }
    if handed_in is not None:   # notebooks or scripts were read (core/handed_in.py)
        document["handed_in"] = handed_in
    atomic_write(path, json.dumps(document, indent=2) + "\n")


def write_gradescope(path: Path, results: list[QuestionResult], text: str,
                     seconds: float, size_limit: int = EMBED_BUDGET) -> None:
    """Gradescope's results.json: a total, the run's text, and one test per check.

    When figures were saved (--save-plots), the last check of each question shows
    the question's key figure: that test's output becomes HTML with the picture
    inline, and the file stays under ``size_limit`` bytes (grader/figures/html.py)."""
    tests, number, pictures = [], 0, []
    for result in results:
        for index, check in enumerate(result.checks, start=1):
            number += 1
            output = check.message
            if index == 1 and result.warnings:
                output = "\n".join(f"Warning: {note}" for note in result.warnings) + "\n" + output
            if index == 1 and result.output.strip():
                output += f"\n\nOutput of your code (first part):\n{result.output}"
            extra = result.question.extra_credit or check.extra_credit
            name = check.name + (" (extra credit)" if extra else "")
            tests.append({"name": name, "number": f"{result.question.id}.{index}",
                          "score": check.points, "max_score": check.max_points,
                          "status": "passed" if check.status == PASSED else "failed",
                          "output": output})
            if index == len(result.checks) and result.figures:
                pictures.append((tests[-1], f"{result.question.id}: {result.question.title}",
                                 Path(result.figures[0])))
    document = {"score": sum(r.points for r in results), "execution_time": round(seconds),
                "output": text, "tests": tests}
    embed_figures(document, pictures, size_limit)
    atomic_write(path, json.dumps(document, indent=2) + "\n")


def write_edx(path: Path, results: list[QuestionResult]) -> None:
    """A small HTML summary, as edX-hosted versions of the course expect."""
    total = sum(r.points for r in results)
    possible = sum(r.max_points for r in results)
    rows = "".join(
        f"<tr><td>{html.escape(r.question.id)}</td><td>{format_points(r.points)}/"
        f"{format_points(r.max_points)}</td></tr>" for r in results)
    atomic_write(path, f"<div><p>Total: {format_points(total)}/{format_points(possible)}</p>"
                        f"<table>{rows}</table></div>\n")
