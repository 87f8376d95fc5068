"""Questions graded side by side (``autograder.py -j N``), printed as if one by one.

Each question already runs in a sandbox process of its own; here up to N of them run
at once, each driven by a thread of the judge. What a question prints (its banner,
the student's output, its PASS/FAIL lines) is collected as one block, and blocks are
printed whole and in the course's order, each as soon as it and every earlier one
are done. The status line shows every running question.

What may start: a question whose prerequisites (q7 waits for q6) have their verdict;
no more sandboxes than the machine's memory allows at the per-sandbox limit; and,
with live plots on a display, one drawing question at a time (one window, as
students expect). Seeds are per question, so grades do not depend on N.
"""

from __future__ import annotations

import io
import os
import threading

from grader.core.results import QuestionResult
from grader.core.table import Question
from grader.judge.report import Reporter

WAKE_SECONDS = 0.1


def memory_slots(memory_mb: int) -> int | None:
    """How many sandboxes fit in the memory available now at ``memory_mb`` each
    (at least 1); None where it cannot be measured."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            fields = dict(line.split(":", 1) for line in info if ":" in line)
        available_mb = int(fields["MemAvailable"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        return None
    return max(1, int(available_mb // memory_mb))


def default_jobs(questions: list[Question], threads_of) -> int:
    """As many questions as the cores hold without oversubscription, given each
    sandbox's torch threads."""
    widest = max((threads_of(question) for question in questions), default=1)
    return max(1, usable_cores() // widest)


def usable_cores() -> int:
    """The cores this process may run on (taskset and container CPU sets count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class _Block:
    """One question's output while it is graded beside others."""

    def __init__(self, question: Question):
        self.question = question
        self.stream = io.StringIO()
        self.reporter = Reporter(self.stream)
        self.result: QuestionResult | None = None
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None


def grade_side_by_side(grader, questions: list[Question], honour_prerequisites: bool,
                       jobs: int) -> list[QuestionResult]:
    """``Grader.grade`` with up to ``jobs`` questions at a time."""
    blocks = {question.id: _Block(question) for question in questions}
    order = [question.id for question in questions]
    waiting = list(order)
    finished = threading.Event()
    printed = 0
    draws_alone = grader.settings.graphics and _display()

    def work(block: _Block) -> None:
        try:
            block.result = grader.grade_question(block.question, shown_to=block.stream)
        except BaseException as error:  # noqa: B036 - reported by the main thread
            block.error = error
        finally:
            finished.set()

    def running() -> list[_Block]:
        return [b for b in blocks.values() if b.thread is not None and b.result is None
                and b.error is None]

    try:
        while printed < len(order):
            for key in list(waiting):
                block = blocks[key]
                prerequisites = [p for p in block.question.prerequisites
                                 if honour_prerequisites and p in blocks]
                if any(blocks[p].result is None for p in prerequisites):
                    continue                     # waits for their verdicts
                blocking = [p for p in prerequisites if not blocks[p].result.full_marks]
                if blocking:
                    waiting.remove(key)
                    block.reporter.question_started(block.question)
                    block.result = grader.skipped(block.question, blocking)
                    continue
                busy = running()
                if len(busy) >= jobs:
                    break
                if draws_alone and block.question.live_plot and \
                        any(b.question.live_plot for b in busy):
                    continue
                waiting.remove(key)
                block.reporter.question_started(block.question)
                block.thread = threading.Thread(target=work, args=(block,), daemon=True)
                block.thread.start()
            finished.wait(WAKE_SECONDS)
            finished.clear()
            for block in blocks.values():
                if block.error is not None:
                    raise block.error
            while printed < len(order) and blocks[order[printed]].result is not None:
                _print(grader, blocks[order[printed]])
                printed += 1
    except BaseException:
        grader.stop.set()                 # every running sandbox is killed
        for block in blocks.values():
            if block.thread is not None:
                block.thread.join(timeout=30)
        raise
    return [blocks[key].result for key in order]


def _print(grader, block: _Block) -> None:
    """Print one question's block whole, clearing the status line around it."""
    block.reporter.question_finished(block.result)
    grader.finished.append(block.result)
    text = block.stream.getvalue()
    status = grader.status
    if status is not None:
        status.before_output()
    grader.reporter.emit(text, block.reporter.lines)
    if status is not None:
        status.after_output(text)


def _display() -> bool:
    try:
        from grader.figures.live import display_available
        return display_available()
    except Exception:  # noqa: BLE001 - no display then
        return False
