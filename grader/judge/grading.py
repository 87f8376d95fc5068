"""The judge: runs each question's sandbox, scores it, and collects the results."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import os
import re
import shutil
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader import assignments
from grader.core.handed_in import HandedIn, UnreadableSource, read_submission, skeleton_names
from grader.core.source import PROJECT_FILES
from grader.core.results import (ERROR, FAILED, FRACTION, LOSS, SKIPPED, CheckResult,
                                 QuestionResult)
from grader.core.table import LIMITS, Assignment, Question
from grader.core.wiring import SettingsView, VerdictInput, load_definition
from grader.judge.data import JudgeData
from grader.judge.imports_check import check_imports
from grader.judge.confinement import Confinement
from grader.judge import warm_start
from grader.judge.report import Reporter
from grader.judge.runner import run_sandbox, sandbox_env
from grader.judge.staff_files import StaffFiles
from grader.judge.status import StatusLine
from grader.judge.submitted import left_out


@dataclass(frozen=True)
class Settings:
    project_root: Path
    student_dir: Path
    seed: int = LIMITS.default_seed
    graphics: bool = False
    mute: bool = False
    plots_dir: Path | None = None
    time_limit_scale: float = 1.0
    memory_mb: int = LIMITS.memory_mb
    enforce_imports: bool = False
    threads: int | None = None     # torch threads per sandbox; None: the table's, per question
    assignment: Assignment | None = None   # None: the default assignment (grader/assignments/)
    # How messages name student_dir: None, its path; '' names the files alone (bulk).
    student_dir_label: str | None = None
    # Attempts a question may have when a retried check fails within reach of its
    # threshold (--attempts): seed, seed + 1, ...; 1 grades on the seed alone.
    attempts: int = LIMITS.default_attempts
    # Sandboxes forked from one warm process where that keeps every guarantee
    # (grader/judge/warm_start.py); False (--no-warm-start): each a fresh interpreter.
    warm_start: bool = True

    def __post_init__(self):
        if self.assignment is None:
            object.__setattr__(self, "assignment", assignments.get())

    @property
    def shown_dir(self) -> str:
        """The student's folder as messages name it ('' for the files alone)."""
        return str(self.student_dir) if self.student_dir_label is None else self.student_dir_label


def sandbox_threads(question: Question, settings: Settings) -> int:
    """The torch threads a question's sandbox runs with: the table's (or the
    settings' override), never more than the machine has cores."""
    wanted = settings.threads or question.threads
    return max(1, min(wanted, os.cpu_count() or 1))


def question_seed(seed: int, question_id: str) -> int:
    """A seed per question, fixed by --seed (the same on every machine)."""
    digest = hashlib.sha256(f"{seed}:{question_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2**31 - 1)


def read_handed_in(settings: Settings) -> HandedIn:
    """The modules made from the submission's notebooks and scripts
    (core/handed_in.py): each expected file must provide its skeleton's top-level
    ``def``/``class`` names (and their other published spellings). Reads only."""
    assignment, expected, skeletons = settings.assignment, {}, {}
    for student_file in assignment.files:
        try:
            text = (settings.project_root / student_file.names_source).read_text(
                encoding="utf-8")
        except OSError:
            text = ""
        names = skeleton_names(text)
        skeletons[student_file.name] = text
        expected[student_file.name] = [spelling for name in names for spelling in
                                       (name, *assignment.name_variants.get(name, ()))]
    ignore = {*PROJECT_FILES, *(Path(m).name for m in assignment.support_modules)}
    try:
        return read_submission(settings.student_dir, expected, ignore, skeletons)
    except Exception as error:  # noqa: BLE001 - ours: grade the files as they are
        return HandedIn(unreadable=[UnreadableSource(
            "the notebooks and scripts", f"could not be read by the autograder (a bug in "
            f"the autograder, please report it: {type(error).__name__}: {error}); the "
            "expected files are graded as they are")])


class Grader:
    def __init__(self, settings: Settings, data: JudgeData, reporter: Reporter,
                 confinement: Confinement | None = None, handed_in: HandedIn | None = None):
        self.settings = settings
        # Modules made from notebooks and scripts (empty for the usual files).
        self.handed_in = handed_in if handed_in is not None else read_handed_in(settings)
        # Expected files not graded (a link, too large, binary), and why.
        self.left_out = left_out(settings.student_dir, settings.assignment.student_files)
        self.confinement = confinement or Confinement("none")
        self.status = None if settings.mute else StatusLine()
        self.data = data
        self.reporter = reporter
        # Made modules are checked as made: only the imports their code needs.
        self.import_warnings = check_imports(settings.student_dir, settings.assignment,
                                             self.handed_in.modules)
        self.internal_errors = 0
        self.stop = threading.Event()     # set on Ctrl-C: every running sandbox ends
        self.finished: list[QuestionResult] = []   # printed so far, in order
        self._lock = threading.Lock()     # questions graded side by side share these
        # Before any student code runs: the staff files as they must stay.
        self.staff = StaffFiles(settings.project_root)

    def grade(self, questions: list[Question], honour_prerequisites: bool,
              jobs: int = 1) -> list[QuestionResult]:
        """Grade ``questions`` in order, or up to ``jobs`` at a time (grader/judge/parallel.py),
        printing each question's block whole and in order."""
        with self.warm_started(questions):
            if jobs > 1 and len(questions) > 1:
                from grader.judge.parallel import grade_side_by_side
                return grade_side_by_side(self, questions, honour_prerequisites, jobs)
            return self._grade_in_order(questions, honour_prerequisites)

    @contextlib.contextmanager
    def warm_started(self, questions: list[Question]):
        """Within the block, the questions' sandboxes are forked from one warm process
        (grader/judge/warm_start.py) where that keeps every guarantee and saves
        something: two questions or more, not under bubblewrap, on Linux, and not
        ``--no-warm-start``. Call from the main thread."""
        public = self.confinement.public_code
        wanted = (self.settings.warm_start and len(questions) > 1 and not self.confinement.warm
                  and self.confinement.forks_keep_guarantees and warm_start.supported())
        try:
            code = self.staff.private_copy() if wanted and public is None else None
        except OSError:          # no room for its own copy: fresh sandboxes, as without it
            wanted = False
        if not wanted:
            yield
            return
        threads = collections.Counter(sandbox_threads(question, self.settings)
                                      for question in questions).most_common(1)[0][0]
        try:
            with self.confinement.reaper.starting():   # never taken for a stray
                warm = warm_start.WarmStart.start(public or code,
                                                  sandbox_env(threads, self.settings.graphics, {}))
                if warm is not None:
                    self.confinement.reaper.started(warm.pid)
            self.confinement.warm = warm
            try:
                yield
            finally:
                self.confinement.warm = None
                if warm is not None:
                    warm.close()
                    self.confinement.reaper.ended(warm.pid)
        finally:
            if code is not None:
                shutil.rmtree(code, ignore_errors=True)

    def _grade_in_order(self, questions: list[Question],
                        honour_prerequisites: bool) -> list[QuestionResult]:
        results: dict[str, QuestionResult] = {}
        for question in questions:
            self.reporter.question_started(question)
            blocking = [p for p in question.prerequisites if honour_prerequisites
                        and p in results and not results[p].full_marks]
            if blocking:
                result = self.skipped(question, blocking)
            else:
                result = self.grade_question(question)
            results[question.id] = result
            self.reporter.question_finished(result)
            self.finished.append(result)
        return list(results.values())

    def grade_question(self, question: Question, shown_to=None) -> QuestionResult:
        """Grade one question; the student's output goes to ``shown_to`` (default:
        stdout, as it comes). When a retried check fails with its figure measured (not
        a time-out, a crash or a missing figure) and within reach of its threshold
        (``within_reach``), the question is trained again on the next run seeds, up to
        ``Settings.attempts`` in all; it earns its best attempt (the first of equals),
        whose checks say every attempt's figure."""
        seed = self.settings.seed
        result, again = self._attempt(question, seed, shown_to)
        tried = [(seed, result)]
        while again and len(tried) < self.settings.attempts and not self.stop.is_set():
            seed += 1
            result, again = self._attempt(question, seed, shown_to)
            tried.append((seed, result))
        if len(tried) == 1:
            return _out_of_reach(result) if self.settings.attempts > 1 else result
        best_seed, best = max(tried, key=lambda attempt: (attempt[1].points,
                                                          -attempt[0]))
        return _with_attempts(best, best_seed, tried)

    def _attempt(self, question: Question, run_seed: int,
                 shown_to=None) -> tuple[QuestionResult, bool]:
        """One attempt at ``question`` with the run seed ``run_seed``; its result, and
        whether another attempt could change it (a retried check failed, its figure
        measured and within reach of its threshold, in a sandbox that finished)."""
        started = time.monotonic()
        imports = self.import_warnings.for_files(question.student_files)
        notes: tuple[str, ...] = ()
        if imports and self.settings.enforce_imports:
            why = self.import_warnings.enforced(question.student_files)
            checks = tuple(CheckResult(question.id, c.key, c.title, c.points, 0.0, FAILED, why)
                           for c in question.checks)
            return QuestionResult(question, checks, time.monotonic() - started,
                                  import_warnings=imports), False

        try:   # our own preparation: a failure here is ours, and costs only this question
            definition = load_definition(question.module)
            seed = question_seed(run_seed, question.id)
            probes = definition.make_probes(
                np.random.default_rng(seed), self.data,
                SettingsView(question.thresholds, definition.probe_reads, "make_probes"))
        except Exception:  # noqa: BLE001 - a bug in the grader must not look like the student's fault
            self._internal_error_seen()
            return QuestionResult(question, self._internal_error(question, traceback.format_exc()),
                                  time.monotonic() - started, import_warnings=imports), False

        # The sandbox imports staff code from a private copy (none is needed when it
        # imports the public copy, which it cannot write: grader/judge/confinement.py).
        public = self.confinement.public_code
        code = self.staff.private_copy() if public is None else self.settings.project_root
        job = dict(self._job(question, seed), project_root=str(code))
        if self.handed_in.modules:
            job["made_modules"] = {name: module.text
                                   for name, module in self.handed_in.modules.items()}
        try:
            outcome = run_sandbox(
                job, probes.public, project_root=code, student_dir=self.settings.student_dir,
                time_limit=question.time_limit * self.settings.time_limit_scale,
                memory_mb=self.settings.memory_mb, echo=not self.settings.mute,
                shown_cap=LIMITS.output_shown_bytes, kept_cap=LIMITS.output_kept_bytes,
                confinement=self.confinement, status=self.status, shown_to=shown_to,
                stop=self.stop)
        finally:
            with self._lock:
                restored = [] if public is not None else self.staff.changes_in(code)
                restored += [name for name in self.staff.restore() if name not in restored]
            if public is None:
                shutil.rmtree(code, ignore_errors=True)
        if self.handed_in.modules:
            _relocate(outcome, self.handed_in)
        if outcome.output.total_bytes > LIMITS.output_shown_bytes:
            notes += (f"your code printed {outcome.output.total_bytes / 1e6:.1f} MB; only the "
                      "beginning was shown",)

        checks = tuple(self._verdict(definition, question, check, outcome, probes)
                       for check in question.checks)
        fault = _grader_fault(outcome)
        if fault is not None:
            self._internal_error_seen()
            checks = tuple(_as_error(c, fault) if c.status == FAILED else c for c in checks)
        if restored:
            checks = tuple(_staff_files_restored(c, restored) for c in checks)
        if self.handed_in.modules:   # no generated file is ever named
            checks = tuple(dataclasses.replace(c, message=self.handed_in.relocate(c.message))
                           for c in checks)
        figures, figure_notes = self._figures(question, outcome, probes)
        retried = {check.key: check.retry_within for check in question.checks
                   if check.retried}
        again = (fault is None and outcome.finished and outcome.stopped is None
                 and any(c.key in retried and c.status == FAILED
                         and within_reach(c, retried[c.key]) for c in checks))
        return QuestionResult(question, checks, time.monotonic() - started,
                              outcome.output.kept, outcome.output.total_bytes,
                              notes + figure_notes, imports, figures,
                              outcome.time_use.cpu if outcome.time_use else None), again

    def _figures(self, question: Question, outcome, probes) -> tuple[tuple[str, ...],
                                                                     tuple[str, ...]]:
        """With --save-plots: draw the question's figures (after scoring, from what
        the sandbox sent back); return their paths and a note per failure."""
        if self.settings.plots_dir is None:
            return (), ()
        try:   # matplotlib is imported here only: grading without figures never loads it
            from grader.figures.plans import draw_question_figures
            saved = draw_question_figures(question, outcome, probes.public, probes.secret,
                                          self.data, self.settings.plots_dir)
        except Exception as error:  # noqa: BLE001 - figures must never cost points
            return (), (f"no figures were drawn ({type(error).__name__}: {error})",)
        return tuple(str(path) for path in saved.paths), saved.notes

    def _verdict(self, definition, question: Question, check, outcome, probes) -> CheckResult:
        verdict = definition.verdicts[check.key]
        try:
            return verdict.function(VerdictInput(
                question, check, outcome, probes.public, probes.secret, self.data,
                SettingsView(question.thresholds, verdict.reads, f"verdict {check.key!r}")))
        except Exception:  # noqa: BLE001 - a bug in the grader must not look like the student's fault
            self._internal_error_seen()
            return self._internal_error(question, traceback.format_exc(), [check])[0]

    def _job(self, question: Question, seed: int) -> dict:
        settings = self.settings
        return {"question": question.id, "module": question.module, "seed": seed,
                "interface": question.interface,
                "settings": dict(question.thresholds),
                "project_root": str(settings.project_root),
                "student_dir": str(settings.student_dir), "graphics": settings.graphics,
                # expected files the sandbox must not import, and why (judge/submitted.py)
                "left_out": self.left_out,
                # how messages name the student's folder (the sandbox may work in a copy)
                "student_dir_shown": settings.shown_dir,
                # what the sandbox imports before the student's files, and the names
                # it accepts under several spellings (the assignment's)
                "support_modules": list(settings.assignment.support_modules),
                "name_variants": {name: list(spellings) for name, spellings
                                  in settings.assignment.name_variants.items()},
                # figure_data runs only when the judge will draw figures from it.
                "figures": settings.plots_dir is not None,
                "memory_mb": settings.memory_mb, "threads": sandbox_threads(question, settings),
                "sanity_seconds": LIMITS.sanity_step_seconds * settings.time_limit_scale}

    def _internal_error_seen(self) -> None:
        with self._lock:
            self.internal_errors += 1

    @staticmethod
    def skipped(question: Question, blocking: list[str]) -> QuestionResult:
        message = (f"skipped: {', '.join(blocking)} must earn full marks first (run "
                   f"`python autograder.py -q {question.id}` to grade it anyway)")
        return QuestionResult(question, tuple(CheckResult(question.id, c.key, c.title, c.points,
                                                          0.0, SKIPPED, message)
                                              for c in question.checks))

    @staticmethod
    def _internal_error(question: Question, details: str, checks=None) -> tuple[CheckResult, ...]:
        message = ("the autograder itself failed while scoring this question (a bug in the "
                   "autograder, not in your code; please report it):\n" + details.strip())
        return tuple(CheckResult(question.id, c.key, c.title, c.points, 0.0, ERROR,
                                 message if i == 0 else "not scored: see the autograder error above")
                     for i, c in enumerate(checks or question.checks))


def within_reach(check: CheckResult, reach: float | None = None) -> bool:
    """Whether another seed could plausibly pass ``check``, a failed figure: an
    accuracy (a FRACTION) at most ``reach`` (default ``LIMITS.retry_within_fraction``)
    below its minimum, a loss at most ``LIMITS.retry_within_loss_ratio`` times its
    maximum, any other figure with a threshold whenever it was measured. The reach is
    set from how far honest designs' figures spread over seeds
    (benchmarks/seed_spread.py): a model at 40% against 97% is not trained again. A
    figure that meets its threshold failed for another reason (q2's guard against a
    lookup table, say), which another seed does not change."""
    if not _short_of_threshold(check):      # not measured, NaN, or failed for another reason
        return False
    if check.unit == FRACTION and check.at_least is not None:
        below = LIMITS.retry_within_fraction if reach is None else reach
        return check.metric >= check.at_least - below - 1e-12
    if check.unit == LOSS and check.at_most is not None:
        return check.metric <= check.at_most * LIMITS.retry_within_loss_ratio
    return check.at_least is not None or check.at_most is not None


def _short_of_threshold(check: CheckResult) -> bool:
    """Whether the check's measured figure lies on the failing side of its threshold
    (False for no figure, NaN, or no threshold)."""
    if check.metric is None:
        return False
    return (check.at_least is not None and check.metric < check.at_least
            or check.at_most is not None and check.metric > check.at_most)


def _out_of_reach(result: QuestionResult) -> QuestionResult:
    """A question graded once although more attempts were allowed: its retried
    checks that failed out of reach say why they were not trained again."""
    reach = {check.key: check.retry_within for check in result.question.checks
             if check.retried}
    checks = []
    for check in result.checks:
        if (check.key in reach and check.status == FAILED and _short_of_threshold(check)
                and not within_reach(check, reach[check.key])):
            check = dataclasses.replace(check, message=(
                f"{check.message}\nnot trained again on another seed (--attempts): "
                f"{check.figure} is too far from the threshold ({check.requirement}) for "
                "another seed to make up").strip())
        checks.append(check)
    return dataclasses.replace(result, checks=tuple(checks))


def _with_attempts(best: QuestionResult, graded_seed: int,
                   tried: list[tuple[int, QuestionResult]]) -> QuestionResult:
    """The counted attempt, its retried checks saying each attempt's figure ("2
    attempts (--attempts): 0.0262 on seed 0, 0.0158 on seed 1: graded on seed 1"), with
    every attempt's seed and points, and the time of them all."""
    retried = {check.key for check in best.question.checks if check.retried}
    checks = []
    for check in best.checks:
        if check.key in retried:
            figures = []
            for seed, result in tried:
                same = next((c for c in result.checks if c.key == check.key), None)
                shown = same.figure if same is not None and same.figure else "no figure"
                figures.append(f"{shown} on seed {seed}")
            line = (f"{len(tried)} attempts (--attempts): {', '.join(figures)}: graded on "
                    f"seed {graded_seed}")
            check = dataclasses.replace(check, message=f"{check.message}\n{line}".strip())
        checks.append(check)
    notes = best.notes
    if best.figures and graded_seed != tried[-1][0]:
        notes += (f"the figures show the attempt on seed {tried[-1][0]}, not the one graded",)
    return dataclasses.replace(
        best, checks=tuple(checks), seconds=sum(result.seconds for _, result in tried),
        notes=notes,
        attempts=tuple((seed, result.points) for seed, result in tried),
        graded_seed=graded_seed)


def _as_error(check: CheckResult, detail: dict) -> CheckResult:
    return dataclasses.replace(check, status=ERROR, message=(
        "the autograder itself failed here (a bug in the autograder, not in your code; please "
        f"report it): {detail.get('message', '')}\n{detail.get('traceback', '')}").strip())


def _staff_files_restored(check: CheckResult, restored: list[str]) -> CheckResult:
    names = ", ".join(restored)
    return dataclasses.replace(check, points=0.0, status=FAILED, message=(
        f"your code modified {names}, which the project ships; the file was restored and this "
        "question earns no points. Do not write into the project's own files (data/, "
        "grader/, backend.py).\n" + check.message))


def _grader_fault(outcome) -> dict | None:
    """What went wrong in our own sandbox code, if anything did."""
    if outcome.sandbox_error is not None:
        return outcome.sandbox_error
    return next((step.error for step in outcome.steps.values()
                 if step.error and step.error.get("kind") == "grader"), None)


_MISSING_NAME = re.compile(r"^(\S+\.py) has no (\w+)")
_UNDEFINED = re.compile(r"NameError: name '(\w+)' is not defined")


def _relocate(outcome, handed_in: HandedIn) -> None:
    """Names notebook cells and script lines, never the generated modules, in what the
    sandbox sent back; a name missing from a generated module says why."""
    errors = [step.error for step in outcome.steps.values() if step.error]
    errors += [e for e in (outcome.sandbox_error, outcome.exit_called) if e]
    for error in errors:
        for key in ("message", "traceback", "where"):
            if isinstance(error.get(key), str):
                error[key] = handed_in.relocate(error[key])
        undefined = _UNDEFINED.search(str(error.get("message", "")))
        told = undefined and next((m.message for module in handed_in.modules.values()
                                   for m in module.missing_globals
                                   if m.name == undefined.group(1)), None)
        if told:   # a kept function reads a global only left-out work made
            error["message"] = f"{error['message']}\n{told}"
        match = _MISSING_NAME.match(str(error.get("message", "")))
        if error.get("kind") == "missing" and match:
            why = handed_in.missing_message(match.group(1), match.group(2))
            if why:
                error["message"] = why
    outcome.fault = handed_in.relocate(outcome.fault)
