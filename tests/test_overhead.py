"""benchmarks/grading_overhead.py's breakdown: the sandbox says when its main() began
and how long its imports and set-up took (an event the judge keeps in
``SandboxOutcome.phases``, never graded on), and the benchmark splits a question's
time with it."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import ROOT

from grader.judge.runner import SandboxOutcome, _read_results
from grader.core.source import StudentFiles


def test_the_breakdown_of_a_graded_question_adds_up():
    process = subprocess.run(
        [sys.executable, "benchmarks/grading_overhead.py", "--questions", "q6", "--no-full",
         "--isolation", "none"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr
    header = next(line for line in process.stdout.splitlines() if line.startswith("question"))
    row = next(line for line in process.stdout.splitlines() if line.startswith("q6 "))
    values = dict(zip(header.split()[1:], (float(v) for v in row.split()[1:] if v != "-")))
    assert values["imports"] > 0.05 and values["launch"] > 0, process.stdout
    parts = sum(values[name] for name in ("launch", "imports", "setup", "training", "checks",
                                          "exit", "judge"))
    assert abs(parts - values["total"]) < 0.05 * values["total"] + 0.05, process.stdout


def test_a_phases_event_is_read_as_numbers_only(tmp_path):
    (tmp_path / "events.jsonl").write_text("\n".join([
        json.dumps({"phases": {"entered": 12.5, "imports": 1.25, "setup": "x", "flag": True,
                               **{f"k{i}": i for i in range(20)}}}),
        json.dumps({"phases": "not a dict"}),
    ]) + "\n", encoding="utf-8")
    outcome = SandboxOutcome()
    _read_results(tmp_path, outcome, StudentFiles(ROOT, tmp_path))
    assert outcome.phases["entered"] == 12.5 and outcome.phases["imports"] == 1.25
    assert "setup" not in outcome.phases and "flag" not in outcome.phases
    assert len(outcome.phases) <= 8
