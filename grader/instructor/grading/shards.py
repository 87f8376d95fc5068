"""Splitting a class into N parts of about equal cost, for ``bulk --shard K/N`` and
``bulk --slurm N`` (grader/instructor/grading/slurm.py).

A submission's cost is what grading it can take at most: the time limit of each
question it will run, when it has that question's files (a notebook or a script of
its own may hold any of them). A question whose files are missing fails at once, and
a submission with nothing to grade (no files, an unreadable zip) costs almost
nothing. So a part full of empty folders is not as long as a part full of complete
submissions, as dealing them out one by one would make it.

The split depends on nothing but the submissions found and the options, so every
task of an array computes the same parts on its own.
"""

from __future__ import annotations

from grader import assignments
from grader.instructor.common.submission import OK, Submission

FAILS_AT_ONCE = 5.0   # seconds: a question whose files are missing, a submission not graded
HANDED_IN_SUFFIXES = (".ipynb", ".py")


def cost(submission: Submission, course: str, questions: list[str], scale: float) -> float:
    """The most seconds grading ``submission`` as ``course`` can take (``questions``:
    the ones chosen with -q, [] for all)."""
    if submission.status != OK:
        return FAILS_AT_ONCE
    names = set(submission.files)
    expected = set(assignments.get(course).student_files)
    # A notebook or a script of its own can stand in for any expected file.
    handed_in = any(name not in expected and name.endswith(HANDED_IN_SUFFIXES)
                    for name in names)
    total = 0.0
    for question in assignments.get(course).questions:
        if questions and question.id not in questions:
            continue
        present = handed_in or set(question.student_files) <= names
        total += question.time_limit * scale if present else FAILS_AT_ONCE
    return total or FAILS_AT_ONCE


def split(costs: list[float], parts: int) -> list[list[int]]:
    """Indices of ``costs`` in ``parts`` lists of about equal total: the costliest
    first, each to the part with the least so far (then the fewest items, then the
    lowest number). Every index lands in exactly one part; each part keeps its
    indices in ascending order."""
    loads = [(0.0, 0, part) for part in range(parts)]
    chosen: list[list[int]] = [[] for _ in range(parts)]
    for index in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        load, count, part = min(loads)
        chosen[part].append(index)
        loads[part] = (load + costs[index], count + 1, part)
    return [sorted(indices) for indices in chosen]


def parts(submissions: list[Submission], n: int, course: str, questions: list[str],
          scale: float) -> list[list[Submission]]:
    """The N parts of ``submissions`` (part K-1 is ``--shard K/N``)."""
    costs = [cost(submission, course, questions, scale) for submission in submissions]
    return [[submissions[i] for i in indices] for indices in split(costs, n)]
