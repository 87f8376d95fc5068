"""The shape of a grading table: an assignment, its questions, their checks and
points, and the limits every sandbox runs under. Each assignment's own table
(grader/assignments/<name>/) fills these in; nothing here names a question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping

SPLIT_FILES, MODELS_ONLY = "split-files", "models-only"   # the student interfaces


@dataclass(frozen=True)
class Check:
    """One line of the report (``*** PASS: <title>``), worth ``points``. ``key`` names
    the question module's sandbox step and verdict for this check. An extra-credit
    check's points count above the question's (and the total's) points possible.
    ``retried``: its outcome depends on training randomness (a training threshold):
    when it fails with a figure measured, the question may be trained again on the
    next seeds (``--attempts``) and earns its best attempt, unless its figure is out
    of reach of the threshold: for an accuracy, more than ``retry_within`` below it
    (None: ``LIMITS.retry_within_fraction``; judge/grading.py's ``within_reach``)."""
    key: str
    title: str
    points: float
    extra_credit: bool = False
    retried: bool = False
    retry_within: float | None = None


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    checks: tuple[Check, ...]
    # Student files whose code this question runs (imports between them included).
    student_files: tuple[str, ...]
    # The module (a dotted name) whose QUESTION definition has this question's probes,
    # steps and verdicts (grader/core/wiring.py).
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
    # An optional question (ungraded, and costly) runs only when -q names it or
    # figures are saved (--save-plots).
    optional: bool = False

    @property
    def points(self) -> float:
        """Points possible, extra-credit checks left out."""
        return sum(check.points for check in self.checks if not check.extra_credit)


def _frozen(**values) -> MappingProxyType:
    return MappingProxyType(values)


@dataclass(frozen=True)
class Limits:
    """Defaults for the sandbox, each overridable on the command line."""
    memory_mb: int = 4096          # --memory-limit
    output_shown_bytes: int = 200_000   # student output shown per question
    output_kept_bytes: int = 20_000     # student output kept for JSON/Gradescope
    sanity_step_seconds: float = 60.0   # a single sanity step (not training)
    wall_cap_factor: float = 3.0   # a question's sandbox is stopped after this many times
                                   # its limit on the clock, even if it used little CPU
    default_seed: int = 0
    # --attempts: a question whose training check fails with its figure measured is
    # trained again on the next seeds, up to this many attempts in all (step 17) ...
    default_attempts: int = 3
    # ... unless the figure is too far from its threshold for another seed to reach:
    # honest designs' figures spread over seeds by up to 0.052 of accuracy and 0.041
    # of q2's loss (benchmarks/seed_spread.py), so an accuracy more than 6 points
    # below its threshold, or a loss above 3 times its threshold, is not retried.
    # Accuracies on MNIST's test digits spread far less (at most 0.0064): their
    # checks set a reach of 2 points (MNIST_RETRY_WITHIN).
    retry_within_fraction: float = 0.06
    retry_within_loss_ratio: float = 3.0


LIMITS = Limits()
MNIST_RETRY_WITHIN = 0.02


def _frozen_empty() -> MappingProxyType:
    return MappingProxyType({})


@dataclass(frozen=True)
class StudentFile:
    """A file students hand in: its name and the skeleton they start from (a path
    relative to the project folder). ``pristine``: a copy of that skeleton inside
    ``grader/``, when the skeleton is a file of the project folder itself (the
    course's ``models.py``: the student's work once they start, and absent from a bulk
    or Gradescope run's staff copy); the judge reads the names a notebook must
    provide from it (``names_source``)."""
    name: str
    skeleton: str
    pristine: str = ""

    @property
    def names_source(self) -> str:
        """The file the skeleton's top-level names are read from."""
        return self.pristine or self.skeleton


@dataclass(frozen=True)
class StandIn:
    """What a student's own run scores instead of withheld labels it does not have
    (its data file is the released copy, those labels blanked): ``rows`` of the
    arrays ``inputs`` and ``labels`` take the place of the withheld rows and of the
    inputs they label. ``what`` names them for the student ("the 5000 test digits
    load_mnist() gives you")."""
    inputs: str
    labels: str
    rows: slice
    what: str


@dataclass(frozen=True)
class Withheld:
    """Labels inside a data file that the judge scores against: ``array`` (its
    ``rows``, or all of it) is replaced by ``blank`` in the copy that student code
    may read under --sandbox-user (and in a release that holds them back).
    ``inputs`` is the array they label; ``stand_in`` what a student's own run of
    the released kit scores instead (None: the kit needs the full file)."""
    array: str
    blank: int
    rows: slice | None = None
    inputs: str = ""
    stand_in: StandIn | None = None


@dataclass(frozen=True)
class DataFile:
    """A file of data/ that scores depend on. The judge refuses to grade unless its
    bytes have this sha256 (data/README.md lists the digests)."""
    name: str
    sha256: str
    withheld: tuple[Withheld, ...] = ()
    # The digest of the arrays of the copy with the withheld labels blanked
    # (grader/judge/data.py: arrays_digest), which a release that holds them back
    # ships; '' when no release does. The judge of a student's own run accepts it.
    public_digest: str = ""


@dataclass(frozen=True)
class Release:
    """What ``python -m grader release`` puts in the student zip, beside the skeletons
    (shipped under their student names) and the grader/ folder (the assignment's own
    package of grader/assignments/, no other)."""
    folder: str                        # the zip's top folder
    files: tuple[str, ...]             # project files shipped as they are
    data: tuple[str, ...]              # files of data/
    readme: Callable[["Assignment"], str]   # the student README, from the table
    # Code the skeletons hand out ready-made, which the staff solutions keep as it
    # is, so the check that no staff solution leaks into the zip allows it:
    # (student file, qualified name such as "Block.__init__").
    provided: frozenset = frozenset()
    # Project files shipped at the zip's top level under another name (a support
    # module kept inside grader/, which students import by its file name there):
    # name in the zip -> path in the project.
    top_level: Mapping[str, str] = field(default_factory=_frozen_empty)
    # The graded data files ship with their withheld labels blanked (the handout says
    # the autograder keeps them), as the sandbox under --sandbox-user sees them.
    holds_back: bool = False
    # When set, the release writes its own pyproject.toml (the folder's name and
    # this description) and its own data/README.md (this function's text) instead
    # of shipping the project's, which describe the course.
    description: str = ""
    data_readme: Callable[["Assignment"], str] | None = None


def in_words(names, last: str = "and") -> str:
    """'a', 'a and b', 'a, b and c' (``last`` joins the last two)."""
    names = list(names)
    return ", ".join(names[:-1]) + f" {last} " + names[-1] if len(names) > 1 else "".join(names)


@dataclass(frozen=True)
class ImportRule:
    """What one student file may import besides its skeleton's own imports (always
    allowed), as its handout states it; the judge reads the file with ast, never runs it.

    ``modules``: top-level modules any import of which is allowed (``numpy`` allows
    ``from numpy.linalg import norm``). ``installed``: also anything the grading
    machine has: the standard library, any module installed there, the student's own
    files. The assignment's support modules (which its docstrings tell students to
    import) and ``__future__`` are always allowed. A file without a rule may import
    only what its skeleton does."""
    modules: tuple[str, ...] = ()
    installed: bool = False


@dataclass(frozen=True)
class Assignment:
    """Everything the kit needs to grade, recognise and release one assignment (or
    one published version of it). grader/assignments/__init__.py collects them."""
    name: str                          # what --course takes
    summary: str                       # one line, for --help
    files: tuple[StudentFile, ...]
    questions: tuple[Question, ...]
    release: Release
    reference: str                     # folder of the staff solutions (tests/reference_<name>)
    data: tuple[DataFile, ...] = ()
    # The imports of each skeleton as shipped ('import X' / 'from X import Y').
    allowed_imports: Mapping[str, frozenset] = field(default_factory=_frozen_empty)
    # What each student file may import beyond its skeleton's imports (ImportRule); a
    # file without one may import only what its skeleton does.
    import_rules: Mapping[str, ImportRule] = field(default_factory=_frozen_empty)
    # Names published under several spellings, each accepted: name -> spellings.
    name_variants: Mapping[str, tuple[str, ...]] = field(default_factory=_frozen_empty)
    # Project files (e.g. "backend.py") the sandbox imports, by their stem, before
    # any student file, so that a student's copy cannot stand in for them.
    support_modules: tuple[str, ...] = ()
    # Why a submission's files are this assignment's ('' when they are not), read
    # from the source without running it; None: when they hold more of its files
    # that no other assignment has than of the default assignment's.
    recognise: Callable[[Path], str] | None = None
    called: str = "assignment"         # how messages name it ("course version")

    def __repr__(self) -> str:   # the fields are long; the name says which it is
        return f"Assignment({self.name!r})"

    @property
    def student_files(self) -> tuple[str, ...]:
        return tuple(student_file.name for student_file in self.files)

    @property
    def support_names(self) -> tuple[str, ...]:
        """The module names of the support modules ("backend" for "backend.py")."""
        return tuple(Path(module).stem for module in self.support_modules)

    @property
    def total(self) -> float:
        """Points possible, extra credit left out."""
        return sum(question.points for question in self.questions if not question.extra_credit)
