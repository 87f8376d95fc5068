"""The judge: runs each question's sandbox, scores it, and collects the results."""

from __future__ import annotations

import hashlib
import importlib
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.imports_check import added_imports
from grader.judge_data import JudgeData
from grader.report import Reporter
from grader.results import ERROR, FAILED, SKIPPED, CheckResult, QuestionResult
from grader.runner import run_sandbox
from grader.table import LIMITS, Question


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
    threads: int = max(1, min(4, os.cpu_count() or 1))


def question_seed(seed: int, question_id: str) -> int:
    """A seed per question, fixed by --seed (the same on every machine)."""
    digest = hashlib.sha256(f"{seed}:{question_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2**31 - 1)


class Grader:
    def __init__(self, settings: Settings, data: JudgeData, reporter: Reporter):
        self.settings = settings
        self.data = data
        self.reporter = reporter
        self.import_warnings = added_imports(settings.student_dir)
        self.internal_errors = 0

    def grade(self, questions: list[Question], honour_prerequisites: bool) -> list[QuestionResult]:
        results: dict[str, QuestionResult] = {}
        for question in questions:
            self.reporter.question_started(question)
            blocking = [p for p in question.prerequisites if honour_prerequisites
                        and p in results and not results[p].full_marks]
            if blocking:
                result = self._skipped(question, blocking)
            else:
                result = self.grade_question(question)
            results[question.id] = result
            self.reporter.question_finished(result)
        return list(results.values())

    def grade_question(self, question: Question) -> QuestionResult:
        started = time.monotonic()
        result = QuestionResult(question)
        notes = [f"{name}: `{statement}` is not one of the skeleton's imports"
                 for name in question.student_files
                 for statement in self.import_warnings.get(name, [])]
        result.notes.extend(notes)
        if notes and self.settings.enforce_imports:
            result.checks = [CheckResult(question.id, c.key, c.title, c.points, 0.0, FAILED,
                                         "not graded: this course requires the skeleton's "
                                         "imports unchanged (--enforce-imports); remove the "
                                         "imports named above") for c in question.checks]
            return result

        module = importlib.import_module(f"grader.questions.{question.module}")
        seed = question_seed(self.settings.seed, question.id)
        probes = module.make_probes(np.random.default_rng(seed), self.data)
        outcome = run_sandbox(
            self._job(question, seed), probes, project_root=self.settings.project_root,
            student_dir=self.settings.student_dir,
            time_limit=question.time_limit * self.settings.time_limit_scale,
            memory_mb=self.settings.memory_mb, echo=not self.settings.mute,
            shown_cap=LIMITS.output_shown_bytes, kept_cap=LIMITS.output_kept_bytes)
        result.output, result.output_bytes = outcome.output.kept, outcome.output.total_bytes
        if outcome.output.total_bytes > LIMITS.output_shown_bytes:
            result.notes.append(f"your code printed {outcome.output.total_bytes / 1e6:.1f} MB; "
                                "only the beginning was shown")
        restored = self.data.restore_changed_files()

        try:
            result.checks = module.score(question, outcome, probes, self.data)
        except Exception:  # a bug in the grader must not look like the student's fault
            self.internal_errors += 1
            result.checks = self._internal_error(question, traceback.format_exc())
        if _grader_fault(outcome):
            self.internal_errors += 1
            detail = outcome.sandbox_error or next(
                s.error for s in outcome.steps.values() if s.error and s.error.get("kind") == "grader")
            result.checks = [c if c.status != FAILED else self._as_error(c, detail)
                             for c in result.checks]
        if restored:
            names = ", ".join(f"data/{name}" for name in restored)
            for check in result.checks:
                check.points, check.status = 0.0, FAILED
                check.message = (f"your code modified {names}, which the project ships; the "
                                 "file was restored and this question earns no points. Do not "
                                 "write into data/.\n" + check.message)
        for check in result.checks:
            step = outcome.step(check.key)
            check.seconds = step.seconds if step is not None else 0.0
        result.seconds = time.monotonic() - started
        return result

    def _job(self, question: Question, seed: int) -> dict:
        settings = self.settings
        return {"question": question.id, "module": question.module, "seed": seed,
                "project_root": str(settings.project_root),
                "student_dir": str(settings.student_dir), "graphics": settings.graphics,
                "plots_dir": str(settings.plots_dir) if settings.plots_dir else None,
                "memory_mb": settings.memory_mb, "threads": settings.threads,
                "sanity_seconds": LIMITS.sanity_step_seconds * settings.time_limit_scale}

    @staticmethod
    def _skipped(question: Question, blocking: list[str]) -> QuestionResult:
        message = (f"skipped: {', '.join(blocking)} must earn full marks first (run "
                   f"`python autograder.py -q {question.id}` to grade it anyway)")
        return QuestionResult(question, [CheckResult(question.id, c.key, c.title, c.points, 0.0,
                                                     SKIPPED, message)
                                         for c in question.checks])

    @staticmethod
    def _internal_error(question: Question, details: str) -> list[CheckResult]:
        message = ("the autograder itself failed while scoring this question (a bug in the "
                   "autograder, not in your code; please report it):\n" + details.strip())
        return [CheckResult(question.id, c.key, c.title, c.points, 0.0, ERROR,
                            message if i == 0 else "not scored: see the autograder error above")
                for i, c in enumerate(question.checks)]

    @staticmethod
    def _as_error(check: CheckResult, detail: dict) -> CheckResult:
        check.status = ERROR
        check.message = ("the autograder itself failed here (a bug in the autograder, not in "
                         f"your code; please report it): {detail.get('message', '')}\n"
                         f"{detail.get('traceback', '')}").strip()
        return check


def _grader_fault(outcome) -> bool:
    return outcome.sandbox_error is not None or any(
        step.error and step.error.get("kind") == "grader" for step in outcome.steps.values())
