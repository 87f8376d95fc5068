"""The wiring between the table and the question modules: checked at start-up, and
a new question added end to end as a worked example (grader/README.md)."""

import dataclasses
import json
import subprocess
import sys
import textwrap

import pytest

from grader.assignments.course.table import QUESTIONS, QUESTIONS_BY_ID
from grader.core.wiring import (
    Definition,
    SettingsView,
    load_definition,
    mismatches,
    table_mismatches,
)
from helpers import copy_project
from test_new_assignment import QUESTION as ZERO_QUESTION


def test_every_module_matches_its_table_row():
    assert table_mismatches(QUESTIONS) == []
    for question in QUESTIONS:
        definition = load_definition(question.module)
        assert list(definition.steps) == [check.key for check in question.checks]


def test_swapped_check_rows_fail_the_start_up_check():
    q1 = QUESTIONS_BY_ID["q1"]
    swapped = dataclasses.replace(q1, checks=(q1.checks[1], q1.checks[0], q1.checks[2]))
    problems = mismatches(swapped, load_definition(q1.module))
    assert len(problems) == 1 and "list them in the same order" in problems[0], problems


def test_a_key_renamed_on_one_side_fails_the_start_up_check():
    q2 = QUESTIONS_BY_ID["q2"]
    renamed = dataclasses.replace(q2, checks=(q2.checks[0], dataclasses.replace(
        q2.checks[1], key="fit")))
    problems = mismatches(renamed, load_definition(q2.module))
    where = "q2 (grader.assignments.course.questions.regression)"
    assert f"{where}: the check 'fit' has no sandbox step" in problems
    assert f"{where}: the check 'fit' has no verdict" in problems
    assert f"{where}: the step 'train' has no check in the table" in problems


def test_unread_and_undeclared_settings_fail_the_start_up_check():
    q3 = QUESTIONS_BY_ID["q3"]
    extra = dataclasses.replace(q3, thresholds={**q3.thresholds, "max_epochs": 9})
    where = "q3 (grader.assignments.course.questions.digits)"
    assert mismatches(extra, load_definition(q3.module)) == [
        f"{where}: the table's setting 'max_epochs' is read by nothing"]
    missing = dataclasses.replace(q3, thresholds={})
    assert mismatches(missing, load_definition(q3.module)) == [
        f"{where}: reads the setting 'min_accuracy', which the table does not have"]


def test_a_module_reads_only_the_settings_it_declares():
    view = SettingsView({"min_accuracy": 0.97, "tolerance": 1e-4}, ("min_accuracy",), "verdict")
    assert view["min_accuracy"] == 0.97 and dict(view) == {"min_accuracy": 0.97}
    with pytest.raises(KeyError, match="reads the setting 'tolerance' without declaring it"):
        view["tolerance"]


def test_a_definition_refuses_a_step_declared_twice():
    definition = Definition()
    definition.step("train")(lambda ctx, record: None)
    with pytest.raises(ValueError, match="declared twice"):
        definition.step("train")(lambda ctx, record: None)


# A whole new question, one module and one table row, graded end to end through the
# real judge, runner and sandbox (the module is the zeros assignment's question of
# tests/test_new_assignment.py, here in the course's package).
EXAMPLE_RUN = '''
import json, sys
from pathlib import Path
from grader.judge.grading import Grader, Settings
from grader.judge.data import JudgeData
from grader.judge.report import Reporter
from grader.core.table import Check, Question, _frozen
from grader.core.wiring import table_mismatches

root, student = Path.cwd(), Path(sys.argv[1])
question = Question("qz", "Zeros", checks=(Check("zeros", "ZeroModel returns zeros", 1),),
                    student_files=("zeros.py",),
                    module="grader.assignments.course.questions.example_zeros", time_limit=60,
                    thresholds=_frozen(rows=4))
assert table_mismatches([question]) == []
grader = Grader(Settings(project_root=root, student_dir=student), JudgeData(root / "data"),
                Reporter(stream=sys.stderr))
[result] = grader.grade([question], honour_prerequisites=True)
print(json.dumps([[c.points, c.status, c.message] for c in result.checks] + [result.output]))
'''

STUDENT = '''
import sys
import numpy
import torch

class ZeroModel(torch.nn.Module):
    def forward(self, x):
        # What reached the sandbox: the public probes only, never the judge's secrets.
        print("probes:", sorted(numpy.load(sys.argv[1] + "/probes.npz").files))
        return torch.zeros(len(x), {columns})
'''


@pytest.mark.parametrize("columns, points", [(2, 1.0), (3, 0.0)])
def test_a_new_question_is_one_module_and_one_row(tmp_path, columns, points):
    project = copy_project(tmp_path / "project")
    questions = project / "grader" / "assignments" / "course" / "questions"
    (questions / "example_zeros.py").write_text(ZERO_QUESTION)
    student = tmp_path / "student"
    student.mkdir()
    (student / "zeros.py").write_text(textwrap.dedent(STUDENT.format(columns=columns)))
    process = subprocess.run([sys.executable, "-c", EXAMPLE_RUN, str(student)], cwd=project,
                             capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    *checks, output = json.loads(process.stdout.splitlines()[-1])   # after the echoed prints
    assert checks[0][0] == points, checks
    assert "probes: ['x']" in output          # 'expected' stayed with the judge
    if not points:
        assert checks[0][2] == "expected zeros of shape (4, 2); got shape (4, 3)"
