"""Saved figures of a question, drawn by the judge once its checks are scored.

Only with ``--save-plots DIR``. A question module names its figure plan in its
definition (``Definition(figure_plan="package.module:function")``, grader/core/wiring.py);
the plan takes the ``Sources`` of the question and returns (file suffix, draw)
pairs. Every figure comes from arrays the sandbox already sent back (the checks'
own, and those of the question's ``figure_data`` function, saved as
``figures.<name>``), together with the judge's probes and labels, so a figure shows
exactly what was scored. The key figure, embedded in Gradescope's results, is
``<question id>.png``; the others are ``<question id>-<suffix>.png``.

A figure whose data is missing (its step failed) is left out without a word; one
that fails to draw is reported in a one-line note, and never changes a score.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from grader.core.wiring import load_definition
from grader.figures import drawing as figures


@dataclass(frozen=True)
class SavedFigures:
    paths: tuple[Path, ...] = ()      # the key figure (qN.png) first, when drawn
    notes: tuple[str, ...] = ()       # one line per figure that could not be drawn


@dataclass(frozen=True)
class Sources:
    """What a question's figures are drawn from: the sandbox's outcome, the public
    probes, the judge's secrets and its data files."""
    outcome: object            # grader.judge.runner.SandboxOutcome
    probes: Mapping
    secret: Mapping
    data: object               # grader.judge.data.JudgeData

    def array(self, step: str, name: str) -> np.ndarray | None:
        """A finite numeric array the sandbox saved, or None."""
        value = self.outcome.array(step, name)
        if value is None or value.dtype.kind not in "biuf" or not np.isfinite(value).all():
            return None
        return value

    def values(self, step: str) -> dict:
        result = self.outcome.step(step)
        return result.values if result is not None and result.ok else {}


Plan = list[tuple[str, Callable[[], "figures.Drawn | None"]]]


def draw_question_figures(question, outcome, probes: Mapping, secret: Mapping, data,
                          folder: Path) -> SavedFigures:
    """Draw and save the figures of ``question`` (a table row) into ``folder``."""
    plan = load_plan(load_definition(question.module).figure_plan)
    if plan is None:
        return SavedFigures()
    paths, notes = [], []
    for suffix, draw in plan(Sources(outcome, probes, secret, data)):
        name = f"{question.id}-{suffix}.png" if suffix else f"{question.id}.png"
        try:
            drawn = draw()
            if drawn is not None:
                paths.append(figures.save_png(drawn.figure, Path(folder) / name))
        except Exception as error:  # noqa: BLE001 - a figure must never cost points
            notes.append(f"the figure {name} was not drawn ({type(error).__name__}: {error})")
    if outcome.figures_problem:
        notes.append(f"some figures lack data: recording it stopped ({outcome.figures_problem})")
    return SavedFigures(tuple(paths), tuple(notes))


def load_plan(reference: str) -> Callable[[Sources], Plan] | None:
    """The plan function named ``package.module:function`` (None for '')."""
    if not reference:
        return None
    module, _, function = reference.partition(":")
    return getattr(importlib.import_module(module), function)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (rows, classes) scores, in float64."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
