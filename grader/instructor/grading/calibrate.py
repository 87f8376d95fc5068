"""How far a solution's training figures spread across seeds (step 17):
``python -m grader calibrate``.

A solution (the staff one by default) is graded question by question on seeds 0..N-1,
each (question, seed) its own ``autograder.py --json`` run, several at once. Every
check that scores a figure against a threshold (a mean squared error, an accuracy)
is reported with its figure at each seed: the lowest, the median and the highest,
how many seeds pass, and the margin of the worst seed to the threshold. A check an
honest solution fails on some seed is flagged: that is where a grade would hinge on
luck. ``calibrate.csv`` holds one row per check and seed; ``calibrate.png`` draws each
check's figures against its threshold.
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from grader.core import lifetime
from grader.instructor.common.spreadsheet import text_cell

PROJECT_ROOT = Path(__file__).resolve().parents[3]
CSV_NAME, PICTURE_NAME = "calibrate.csv", "calibrate.png"
CSV_COLUMNS = ("question", "check", "name", "seed", "figure", "unit", "at_least", "at_most",
               "passed", "seconds")


@dataclass(frozen=True)
class Figure:
    """One thresholded check's figure on one seed (``figure`` None: not measured,
    e.g. the question failed before training)."""
    question: str
    check: str
    name: str
    seed: int
    figure: float | None
    unit: str
    at_least: float | None
    at_most: float | None
    passed: bool
    seconds: float


@dataclass(frozen=True)
class Spread:
    """One check's figures over every seed."""
    question: str
    check: str
    name: str
    unit: str
    at_least: float | None
    at_most: float | None
    figures: tuple[float | None, ...]
    passes: int

    @property
    def measured(self) -> list[float]:
        return [figure for figure in self.figures if figure is not None]

    @property
    def threshold(self) -> str:
        if self.at_least is not None:
            return f">= {self.at_least:g}"
        return f"<= {self.at_most:g}" if self.at_most is not None else "-"

    @property
    def margin(self) -> float | None:
        """How far the worst seed's figure lies on the passing side of the threshold
        (negative: on the failing side)."""
        measured = self.measured
        if not measured:
            return None
        if self.at_least is not None:
            return min(measured) - self.at_least
        if self.at_most is not None:
            return self.at_most - max(measured)
        return None

    @property
    def flagged(self) -> bool:
        """Passes on some seeds and not on others: the grade hinges on the seed."""
        return 0 < self.passes < len(self.figures)


def run_one(student_dir: Path, course: str, question: str, seed: int, isolation: str,
            scratch: Path, timeout: float) -> tuple[list[Figure], str]:
    """Grade ``question`` of ``student_dir`` on ``seed``; its thresholded figures, and
    a problem sentence ("" when the run gave results)."""
    results = scratch / f"{question}-{seed}.json"
    command = [sys.executable, str(PROJECT_ROOT / "autograder.py"), "--student-dir",
               str(student_dir), "--course", course, "-q", question, "--seed", str(seed),
               "--attempts", "1",
               "--json", str(results), "--no-graphics", "--mute", "-j", "1",
               "--isolation", isolation]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    try:
        process = subprocess.run(command, cwd=scratch, env=lifetime.child_env(env),
                                 capture_output=True, text=True, timeout=timeout,
                                 stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return [], f"{question} on seed {seed} ran past {timeout:g} s"
    try:
        data = json.loads(results.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tail = (process.stdout + process.stderr).strip().splitlines()[-3:]
        return [], (f"{question} on seed {seed}: autograder.py exited with status "
                    f"{process.returncode} and wrote no results ({' / '.join(tail)})")
    figures = []
    for test in data.get("tests", []):
        if test.get("at_least") is None and test.get("at_most") is None:
            continue
        figures.append(Figure(question, str(test.get("check", "")), str(test.get("name", "")),
                              seed, test.get("metric"), str(test.get("unit", "")),
                              test.get("at_least"), test.get("at_most"),
                              test.get("status") == "passed", float(test.get("seconds") or 0)))
    return figures, ""


def calibrate(student_dir: Path, course: str, questions: list[str], seeds: int, jobs: int,
              isolation: str, timeout: float, progress=None) -> tuple[list[Figure], list[str]]:
    """Every (question, seed) graded, ``jobs`` at a time; the figures in a stable
    order (question, check, seed) and one sentence per run that gave no results."""
    figures, problems, lock = [], [], threading.Lock()
    with tempfile.TemporaryDirectory(prefix="grader-calibrate-") as scratch:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_one, student_dir, course, question, seed, isolation,
                                   Path(scratch), timeout)
                       for question in questions for seed in range(seeds)]
            for future in as_completed(futures):
                found, problem = future.result()
                with lock:
                    figures += found
                    if problem:
                        problems.append(problem)
                if progress is not None:
                    progress()
    order = {question: index for index, question in enumerate(questions)}
    figures.sort(key=lambda f: (order[f.question], f.check, f.seed))
    return figures, sorted(problems)


def spreads(figures: list[Figure], seeds: int) -> list[Spread]:
    """One ``Spread`` per check, in the figures' order; a seed whose run gave no
    figure for the check counts as not passing."""
    grouped: dict[tuple[str, str], list[Figure]] = {}
    for figure in figures:
        grouped.setdefault((figure.question, figure.check), []).append(figure)
    found = []
    for (question, check), rows in grouped.items():
        by_seed = {row.seed: row for row in rows}
        first = rows[0]
        found.append(Spread(question, check, first.name, first.unit, first.at_least,
                            first.at_most,
                            tuple(by_seed[s].figure if s in by_seed else None
                                  for s in range(seeds)),
                            sum(1 for row in rows if row.passed)))
    return found


def table(found: list[Spread]) -> str:
    """The report's text: one line per check."""
    lines = [f"{'check':<58} {'threshold':>10} {'min':>10} {'median':>10} {'max':>10} "
             f"{'passes':>7} {'margin':>10}"]
    for spread in found:
        measured = spread.measured
        cells = [f"{value:10.4g}" for value in (min(measured), statistics.median(measured),
                                                 max(measured))] if measured else [f"{'-':>10}"] * 3
        margin = f"{spread.margin:10.4g}" if spread.margin is not None else f"{'-':>10}"
        line = (f"{spread.name[:58]:<58} {spread.threshold:>10} {' '.join(cells)} "
                f"{spread.passes:>3}/{len(spread.figures):<3} {margin}")
        if spread.flagged:
            line += "  FAILS ON SOME SEEDS"
        lines.append(line)
    return "\n".join(lines)


def csv_text(figures: list[Figure]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for figure in figures:
        writer.writerow([figure.question, figure.check, text_cell(figure.name), figure.seed,
                         "" if figure.figure is None else repr(figure.figure), figure.unit,
                         "" if figure.at_least is None else figure.at_least,
                         "" if figure.at_most is None else figure.at_most,
                         int(figure.passed), figure.seconds])
    return buffer.getvalue()


def draw(found: list[Spread], path: Path) -> None:
    """One panel per check: each seed's figure (red where it fails) and the
    threshold as a dashed line."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    columns = min(3, max(1, len(found)))
    rows = (len(found) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.0 * rows),
                                squeeze=False)
    for axis in axes.ravel()[len(found):]:
        axis.set_visible(False)
    for axis, spread in zip(axes.ravel(), found):
        threshold = spread.at_least if spread.at_least is not None else spread.at_most
        seeds = [seed for seed, value in enumerate(spread.figures) if value is not None]
        values = [spread.figures[seed] for seed in seeds]
        passing = [(value >= threshold) if spread.at_least is not None else (value <= threshold)
                   for value in values]
        axis.scatter(seeds, values, c=["tab:blue" if ok else "tab:red" for ok in passing],
                     zorder=3)
        axis.axhline(threshold, color="black", linestyle="--", linewidth=1,
                     label=f"threshold {spread.threshold}")
        axis.set_title(spread.name if len(spread.name) <= 48 else spread.name[:45] + "...",
                       fontsize=9)
        axis.set_xlabel("seed")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel(spread.unit or "figure")
        axis.legend(fontsize=7, loc="best")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
