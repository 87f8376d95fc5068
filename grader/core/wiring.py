"""How a question module declares its work, and the start-up check that it matches
the table.

A question module (e.g. ``grader/assignments/course/questions/regression.py``) holds
one ``Definition``, by convention named ``QUESTION``, and tags its functions with it:

    QUESTION = Definition(figure_plan="package.figure_plans:regression")  # optional

    @QUESTION.probes(reads=("fresh_points",))
    def make_probes(rng, data, settings) -> Probes: ...      # judge: inputs, secrets

    @QUESTION.step("sanity", budgeted=True)
    def sanity(ctx, record): ...                              # sandbox: runs student code

    @QUESTION.verdict("sanity", reads=("max_mse",))
    def judge_sanity(v) -> CheckResult: ...                   # judge: scores one check

    @QUESTION.figure_data_step()
    def figure_data(ctx, record): ...                         # sandbox, only for figures

A ``figure_data`` function is optional: the sandbox runs it after every step, and
only when figures are being saved (``--save-plots``), to record the few arrays the
judge's figures need beyond what the checks record; the judge draws the figures
with the ``figure_plan`` function (grader/figures/plans.py).

Steps and verdicts are matched to the table's ``Check`` rows by key. ``mismatches``
lists every way a module and its table row disagree (a check without a step or a
verdict, a step or verdict without a check, steps listed in another order than the
checks, a setting read but not in the table, a setting in the table that nothing
reads); the command line refuses to grade while there is one.

Decorators only record; nothing here runs a question.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

FIGURES_STEP = "figures"   # the name figure_data's arrays are saved under


@dataclass(frozen=True)
class Probes:
    """What ``make_probes`` returns: ``public`` inputs go to the sandbox (and so to
    student code); ``secret`` values (labels, permutations) never leave the judge."""
    public: Mapping[str, np.ndarray]
    secret: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    key: str
    body: Callable          # body(ctx, record), in the sandbox
    budgeted: bool          # True: bounded by the sanity-step budget, not only the question's
    reads: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    key: str
    function: Callable      # function(v: VerdictInput) -> CheckResult, in the judge
    reads: tuple[str, ...]


class Definition:
    """Collects one question's probes, sandbox steps (in the order they run) and
    verdicts (one per check key). ``figure_plan`` names the function that plans its
    saved figures, as ``package.module:function`` (grader/figures/plans.py); the
    judge imports it only when it draws figures."""

    def __init__(self, figure_plan: str = "") -> None:
        self.figure_plan = figure_plan
        self.make_probes: Callable | None = None
        self.probe_reads: tuple[str, ...] = ()
        self.steps: dict[str, Step] = {}
        self.verdicts: dict[str, Verdict] = {}
        self.figure_data: Callable | None = None   # body(ctx, record), in the sandbox

    def probes(self, *, reads: tuple[str, ...] = ()):
        def tag(function):
            self.make_probes, self.probe_reads = function, tuple(reads)
            return function
        return tag

    def step(self, key: str, *, budgeted: bool = False, reads: tuple[str, ...] = ()):
        def tag(function):
            if key in self.steps:
                raise ValueError(f"step {key!r} is declared twice")
            self.steps[key] = Step(key, function, budgeted, tuple(reads))
            return function
        return tag

    def verdict(self, key: str, *, reads: tuple[str, ...] = ()):
        def tag(function):
            if key in self.verdicts:
                raise ValueError(f"verdict {key!r} is declared twice")
            self.verdicts[key] = Verdict(key, function, tuple(reads))
            return function
        return tag

    def figure_data_step(self):
        """Tag the function that records arrays for the judge's figures. It runs
        after every step, only when figures are saved, and nothing it does (or
        fails to do) can change a score."""
        def tag(function):
            if self.figure_data is not None:
                raise ValueError("figure_data is declared twice")
            self.figure_data = function
            return function
        return tag

    def reads(self) -> set[str]:
        names = set(self.probe_reads)
        for item in (*self.steps.values(), *self.verdicts.values()):
            names.update(item.reads)
        return names


def load_definition(module: str) -> Definition:
    """The ``QUESTION`` of the question module ``module`` (a dotted name)."""
    definition = getattr(importlib.import_module(module), "QUESTION", None)
    if not isinstance(definition, Definition):
        raise TypeError(f"{module} has no QUESTION = Definition()")
    return definition


class SettingsView(Mapping):
    """A read-only view of a question's settings that allows only the names its
    reader declared, so that what a module reads is what it says it reads."""

    def __init__(self, values: Mapping, allowed: tuple[str, ...], reader: str):
        self._values, self._allowed, self._reader = values, frozenset(allowed), reader

    def __getitem__(self, name: str):
        if name not in self._allowed:
            raise KeyError(f"{self._reader} reads the setting {name!r} without declaring it "
                           "in reads=(...)")
        return self._values[name]

    def __iter__(self):
        return (name for name in self._values if name in self._allowed)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass(frozen=True)
class VerdictInput:
    """What a verdict scores one check from: the sandbox's outcome, the public probes
    and the judge's secrets, the judge's data, and the settings it declared."""
    question: object        # grader.core.table.Question
    check: object           # grader.core.table.Check
    outcome: object         # grader.judge.runner.SandboxOutcome
    probes: Mapping
    secret: Mapping
    data: object            # grader.judge.data.JudgeData
    settings: SettingsView

    def step(self, key: str | None = None):
        """The result of the step ``key`` (default: this check's own), or None."""
        return self.outcome.step(key or self.check.key)

    def seconds(self) -> float:
        step = self.step()
        return step.seconds if step is not None else 0.0

    def passed(self, message: str = "", metric=None):
        from grader.core.results import passed
        return passed(self.question, self.check, message, metric, seconds=self.seconds())

    def scored(self, points: float, message: str = "", metric=None):
        """``points`` of this check's, e.g. on an accuracy scale (partial credit)."""
        from grader.core.results import scored
        return scored(self.question, self.check, points, message, metric,
                      seconds=self.seconds())

    def failed(self, message: str, metric=None):
        from grader.core.results import failed
        return failed(self.question, self.check, message, metric, seconds=self.seconds())

    def missing(self, key: str | None = None):
        """A failure saying why the step ``key`` (default: this check's) has no result."""
        return self.failed(self.outcome.why_missing(key or self.check.key))


def mismatches(question, definition: Definition) -> list[str]:
    """Every disagreement between a table row and its module, as sentences."""
    where = f"{question.id} ({question.module})"
    keys = [check.key for check in question.checks]
    problems = []
    if definition.make_probes is None:
        problems.append(f"{where}: no @QUESTION.probes function")
    for key in keys:
        if key not in definition.steps:
            problems.append(f"{where}: the check {key!r} has no sandbox step")
        if key not in definition.verdicts:
            problems.append(f"{where}: the check {key!r} has no verdict")
    for key in definition.steps:
        if key not in keys:
            problems.append(f"{where}: the step {key!r} has no check in the table")
    for key in definition.verdicts:
        if key not in keys:
            problems.append(f"{where}: the verdict {key!r} has no check in the table")
    steps = list(definition.steps)
    if set(steps) == set(keys) and steps != keys:
        problems.append(f"{where}: the table lists the checks as {keys} but the steps run "
                        f"as {steps}; list them in the same order")
    read, available = definition.reads(), set(question.thresholds)
    for name in sorted(read - available):
        problems.append(f"{where}: reads the setting {name!r}, which the table does not have")
    for name in sorted(available - read):
        problems.append(f"{where}: the table's setting {name!r} is read by nothing")
    return problems


def table_mismatches(questions) -> list[str]:
    """``mismatches`` for every question whose module loads; a module that does not
    load is left to grading, which reports it as that question's autograder error."""
    problems = []
    for question in questions:
        try:
            definition = load_definition(question.module)
        except Exception:  # noqa: BLE001 - contained per question when grading
            continue
        problems.extend(mismatches(question, definition))
    return problems
