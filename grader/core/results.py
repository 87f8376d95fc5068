"""Result values: what a check found, and what a question earned.

Checks return these values; the grader collects them and the report prints
them. Nothing here prints or decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.core.table import Check, Question

PASSED, FAILED, SKIPPED, ERROR = "passed", "failed", "skipped", "error"
# What a check's measured figure is: a share (0.97, shown as 97.00%), a loss, a count;
# '' for a plain number.
FRACTION, LOSS, COUNT = "fraction", "loss", "count"


@dataclass(frozen=True)
class Measured:
    """A check's measured figure in its unit, and what it had to reach (``at_least``)
    or stay within (``at_most``), in the same unit. Verdicts pass one as ``metric``
    (a bare number is a figure of no stated unit)."""
    value: float
    unit: str = ""
    at_least: float | None = None
    at_most: float | None = None


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
    unit: str = ""               # what metric is: FRACTION, LOSS, COUNT ('' unsaid)
    at_least: float | None = None   # what metric had to reach, in its unit
    at_most: float | None = None    # what metric had to stay within, in its unit

    @property
    def name(self) -> str:
        return f"{self.question}: {self.title}"

    @property
    def figure(self) -> str:
        """The measured figure in its unit ('100.00%'), '' if there is none."""
        return "" if self.metric is None else format_figure(self.metric, self.unit)

    @property
    def requirement(self) -> str:
        """What the figure had to be, in its unit ('100%', 'at most 0.02'), or ''."""
        return format_requirement(self.unit, self.at_least, self.at_most)


def passed(question: Question, check: Check, message: str = "", metric=None,
           seconds: float = 0.0) -> CheckResult:
    return scored(question, check, check.points, message, metric, seconds)


def failed(question: Question, check: Check, message: str, metric=None,
           status: str = FAILED, seconds: float = 0.0) -> CheckResult:
    return CheckResult(question.id, check.key, check.title, check.points, 0.0,
                       status, message, seconds=seconds, extra_credit=check.extra_credit,
                       **_figure(metric))


def scored(question: Question, check: Check, points: float, message: str = "", metric=None,
           seconds: float = 0.0) -> CheckResult:
    """``points`` of the check's (partial credit on a scale): it passes with all of
    them, an extra-credit check with any."""
    points = min(max(float(points), 0.0), check.points)
    status = PASSED if points == check.points or (check.extra_credit and points > 0) \
        else FAILED
    return CheckResult(question.id, check.key, check.title, check.points, points, status,
                       message, seconds=seconds, extra_credit=check.extra_credit,
                       **_figure(metric))


def _figure(metric) -> dict:
    """CheckResult's fields for ``metric``: None, a number, or a Measured."""
    if metric is None:
        return {}
    if not isinstance(metric, Measured):
        return {"metric": float(metric)}
    number = (lambda value: None if value is None else float(value))
    return {"metric": float(metric.value), "unit": metric.unit,
            "at_least": number(metric.at_least), "at_most": number(metric.at_most)}


def format_figure(value: float, unit: str = "") -> str:
    """A measured figure in its unit: 1.0 as a FRACTION is '100.00%', 3.0 as a COUNT
    '3', a loss or a plain number to 4 significant digits ('0.0123')."""
    if unit == FRACTION:
        return f"{100 * value:.2f}%"
    if unit == COUNT:
        return f"{value:.0f}"
    return f"{value:.4g}"


def format_requirement(unit: str, at_least: float | None, at_most: float | None) -> str:
    """What a figure had to be, as the table states it: a FRACTION's minimum as a
    percentage with the decimals it has ('100%', '97.5%'), other bounds as
    'at least X' / 'at most X'; '' when there is none."""
    def shown(value: float) -> str:
        if unit == FRACTION:
            return f"{100 * value:.2f}".rstrip("0").rstrip(".") + "%"
        return f"{value:g}"
    parts = []
    if at_least is not None:
        parts.append(shown(at_least) if unit == FRACTION and at_most is None
                     else f"at least {shown(at_least)}")
    if at_most is not None:
        parts.append(f"at most {shown(at_most)}")
    return " and ".join(parts)


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    checks: tuple[CheckResult, ...] = ()
    seconds: float = 0.0
    output: str = ""             # the start of the student's printed output
    output_bytes: int = 0
    notes: tuple[str, ...] = ()  # warnings shown with the question
    # Imports their rule does not allow, in this question's files: printed once at
    # the start of a run, kept per question in JSON and Gradescope output.
    import_warnings: tuple[str, ...] = ()
    # Figures saved with --save-plots (file paths), the key figure (qN.png) first.
    figures: tuple[str, ...] = ()
    # CPU seconds its sandbox's processes used (None: not measured, or no sandbox ran)
    cpu_seconds: float | None = None
    # With --attempts above 1, when a retried check failed: each attempt's run seed
    # and points, and the seed whose attempt counted (None: graded once).
    attempts: tuple[tuple[int, float], ...] = ()
    graded_seed: int | None = None

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
