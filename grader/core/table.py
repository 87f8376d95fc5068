"""The shape of a grading table: a question, its checks and points, and the limits
every sandbox runs under. An assignment's own table (grader/assignments/<name>/)
fills these in; nothing here names a question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

SPLIT_FILES, MODELS_ONLY = "split-files", "models-only"   # the student interfaces


@dataclass(frozen=True)
class Check:
    """One line of the report (``*** PASS: <title>``), worth ``points``. ``key`` names
    the question module's sandbox step and verdict for this check."""
    key: str
    title: str
    points: float


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    checks: tuple[Check, ...]
    # Student files whose code this question runs (imports between them included).
    student_files: tuple[str, ...]
    # Module in grader.assignments.course.questions whose QUESTION definition has this question's
    # probes, steps and verdicts (grader/core/wiring.py).
    module: str
    # Seconds of wall-clock time for the whole question (scaled by --time-limit-scale).
    time_limit: float
    # Thresholds and scoring constants, by name; read only by the question's module.
    thresholds: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    # Questions that must earn full marks first when all questions are graded
    # (ignored with -q).
    prerequisites: tuple[str, ...] = ()
    # torch threads for the sandbox (at most the machine's cores); chosen from
    # benchmarks/threads.py: these small models are no faster with more.
    threads: int = 1
    # Where the student's code lives (set by the course version, below): SPLIT_FILES
    # (models.py, losses.py, train.py functions) or MODELS_ONLY (each model's own
    # run, get_loss and train(dataset) methods in models.py).
    interface: str = SPLIT_FILES
    # Extra credit: reported as such and counted above the base total.
    extra_credit: bool = False
    # Whether training shows a live plot (with -j, such questions draw one at a time).
    live_plot: bool = True

    @property
    def points(self) -> float:
        return sum(check.points for check in self.checks)


def _frozen(**values) -> MappingProxyType:
    return MappingProxyType(values)


@dataclass(frozen=True)
class Limits:
    """Defaults for the sandbox, each overridable on the command line."""
    memory_mb: int = 4096          # --memory-limit
    output_shown_bytes: int = 200_000   # student output shown per question
    output_kept_bytes: int = 20_000     # student output kept for JSON/Gradescope
    sanity_step_seconds: float = 60.0   # a single sanity step (not training)
    default_seed: int = 0


LIMITS = Limits()
