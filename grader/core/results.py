"""Result values: what a check found, and what a question earned.

Checks return these values; the grader collects them and the report prints
them. Nothing here prints or decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.core.table import Check, Question

PASSED, FAILED, SKIPPED, ERROR = "passed", "failed", "skipped", "error"


@dataclass(frozen=True)
class CheckResult:
    question: str
    key: str
    title: str
    max_points: float
    points: float
    status: str                  # PASSED, FAILED, SKIPPED, or ERROR (the grader's fault)
    message: str = ""
    metric: float | None = None  # the measured figure (accuracy, loss...), if any
    seconds: float = 0.0
    extra_credit: bool = False   # its points count above the points possible

    @property
    def name(self) -> str:
        return f"{self.question}: {self.title}"


def passed(question: Question, check: Check, message: str = "", metric=None,
           seconds: float = 0.0) -> CheckResult:
    return scored(question, check, check.points, message, metric, seconds)


def failed(question: Question, check: Check, message: str, metric=None,
           status: str = FAILED, seconds: float = 0.0) -> CheckResult:
    return CheckResult(question.id, check.key, check.title, check.points, 0.0,
                       status, message, _number(metric), seconds, check.extra_credit)


def scored(question: Question, check: Check, points: float, message: str = "", metric=None,
           seconds: float = 0.0) -> CheckResult:
    """``points`` of the check's (partial credit on a scale): it passes with all of
    them, an extra-credit check with any."""
    points = min(max(float(points), 0.0), check.points)
    status = PASSED if points == check.points or (check.extra_credit and points > 0) \
        else FAILED
    return CheckResult(question.id, check.key, check.title, check.points, points, status,
                       message, _number(metric), seconds, check.extra_credit)


def _number(value):
    return None if value is None else float(value)


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    checks: tuple[CheckResult, ...] = ()
    seconds: float = 0.0
    output: str = ""             # the start of the student's printed output
    output_bytes: int = 0
    notes: tuple[str, ...] = ()  # warnings shown with the question
    # Imports the skeleton does not have, in this question's files: printed once at
    # the start of a run, kept per question in JSON and Gradescope output.
    import_warnings: tuple[str, ...] = ()
    # Figures saved with --save-plots (file paths), the key figure (qN.png) first.
    figures: tuple[str, ...] = ()
    # CPU seconds its sandbox's processes used (None: not measured, or no sandbox ran)
    cpu_seconds: float | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.import_warnings + self.notes

    @property
    def points(self) -> float:
        return sum(check.points for check in self.checks)

    @property
    def max_points(self) -> float:
        return self.question.points

    @property
    def extra(self) -> float:
        """Extra credit earned: all of an extra-credit question's points, else its
        extra-credit checks'."""
        return sum(check.points for check in self.checks
                   if self.question.extra_credit or check.extra_credit)

    @property
    def full_marks(self) -> bool:
        return all(check.status == PASSED for check in self.checks
                   if not check.extra_credit) and bool(self.checks)


def format_points(value: float) -> str:
    """5 -> '5', 2.5 -> '2.5', 1/3 -> '0.33' (never '%d' rounding half points away)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
