"""Sections every student README shares, written from the assignment's table (so that
they cannot drift from the grading): each question's time limit, and what each
student file may import."""

from __future__ import annotations

import textwrap

from grader.core.table import LIMITS, Assignment, ImportRule, in_words

KEEP = "\N{NO-BREAK SPACE}"   # a space the lines are not broken at (a plain one in the text)


def time_limit_words(seconds: float) -> str:
    """'45 s', '1 min', '2 min 30 s'."""
    minutes, rest = divmod(int(round(seconds)), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" + (f" {rest} s" if rest else "")


def time_limits(assignment: Assignment) -> str:
    """A Markdown section: every question's time limit, as its row has it."""
    limits = ", ".join(f"{q.id} {time_limit_words(q.time_limit)}".replace(" ", KEEP)
                       for q in assignment.questions)
    return _section("Time limits", "Each question runs your code in a process of its own, "
                    "stopped when it runs past the question's time limit: "
                    f"{limits}. The limit counts the processor time your code gets (so a "
                    "busy machine does not use it up), and code that waits or sleeps is "
                    f"stopped after {LIMITS.wall_cap_factor:g} times the limit on the clock.")


def _section(title: str, text: str) -> str:
    wrapped = textwrap.fill(text, width=85, break_long_words=False, break_on_hyphens=False)
    return f"\n## {title}\n\n{wrapped.replace(KEEP, ' ')}\n"


def _quoted(names) -> list[str]:
    return [f"`{name}`" for name in names]


def _rule_words(files: list[str], rule: ImportRule | None, assignment: Assignment) -> str:
    which = in_words(_quoted(files))
    if rule is None:
        skeleton = "its skeleton imports" if len(files) == 1 else "their skeletons import"
        return (f"{which} may import only what {skeleton}; any other import is a warning "
                "at the start of a run")
    modules = _quoted(dict.fromkeys((*rule.modules, *assignment.support_names)))
    if rule.installed:
        return (f"{which} may import anything installed where you are graded: Python's "
                f"standard library, {', '.join(modules)} and your own files are; "
                "torchvision and scikit-learn, for example, are not. An import of a module "
                "that is not installed is a warning at the start of a run")
    return (f"{which} may import {in_words(modules)} only; anything else is a warning at "
            "the start of a run")


def import_rules(assignment: Assignment) -> str:
    """A Markdown section: what each student file may import (files under the same
    rule together), and what --enforce-imports does."""
    groups: dict[ImportRule | None, list[str]] = {}
    for name in assignment.student_files:
        rule = assignment.import_rules.get(name)
        if rule is None and name not in assignment.allowed_imports:
            continue
        groups.setdefault(rule, []).append(name)
    if not groups:
        return ""
    sentences = [_rule_words(files, rule, assignment) + "." for rule, files in groups.items()]
    return _section("Imports", " ".join(sentences) + " Graded with `--enforce-imports`, the "
                    "questions that use such a file earn nothing.")


def notebook_section(assignment: Assignment) -> str:
    """A Markdown section: the release's notebook handout, in Jupyter and in Colab
    (grader/instructor/release/handout_notebook.py writes it)."""
    notebook = f"`{assignment.release.folder}.ipynb`"
    return _section("Working in a notebook", f"{notebook} holds this README and the "
                    "skeletons' code, one cell per function or class, and cells that grade "
                    "the notebook itself. In Jupyter, open it in this folder. In Colab, open "
                    "it, upload this release's zip and run its first code cell: it unzips "
                    "the zip and changes into the folder. Save the notebook before running a "
                    "grading cell, and hand in the notebook.")
