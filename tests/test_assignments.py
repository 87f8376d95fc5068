"""The registry of assignments (grader/assignments/__init__.py): every entry is whole
and wired, the default comes first, and a submission's files say which it is."""

from __future__ import annotations

import ast
from types import MappingProxyType

import pytest

from grader import assignments
from grader.assignments.course.table import QUESTIONS
from grader.core.table import Assignment, Check, Question, Release, StudentFile
from grader.core.wiring import table_mismatches
from helpers import ROOT, make_submission


def test_the_course_versions_come_first_and_current_is_the_default():
    assert assignments.names()[:3] == ["current", "models-only", "models-only-q6"]
    assert assignments.get() is assignments.get("current")
    assert assignments.get("current").questions == QUESTIONS
    with pytest.raises(assignments.UnknownAssignment, match="choose from current, "):
        assignments.get("nope")


@pytest.mark.parametrize("name", assignments.names())
def test_every_assignment_is_whole_and_wired(name):
    assignment = assignments.get(name)
    assert table_mismatches(assignment.questions) == []
    for file in assignment.files:
        assert (ROOT / file.skeleton).is_file(), file
        assert (ROOT / assignment.reference / file.name).is_file(), file
    for question in assignment.questions:
        assert set(question.student_files) <= set(assignment.student_files), question.id
    for module in assignment.support_modules:
        assert (ROOT / module).is_file(), module
    assert assignment.release.readme(assignment).startswith("# ")


def test_the_models_only_skeleton_imports_what_its_table_allows():
    skeleton = ROOT / assignments.get("models-only").files[0].skeleton
    imported = {f"from {node.module} import {alias.name}" if isinstance(node, ast.ImportFrom)
                else f"import {alias.name}"
                for node in ast.walk(ast.parse(skeleton.read_text()))
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    assert imported <= assignments.get("models-only").allowed_imports["models.py"]


def _zeros() -> Assignment:
    question = Question("q1", "Zeros", (Check("zeros", "zeros", 1),), ("zeros.py",),
                        "grader.assignments.zeros.question", 60)
    return Assignment("zeros", "a model that returns zeros",
                      (StudentFile("zeros.py", "zeros.py"),), (question,),
                      Release("zeros", (), (), lambda assignment: "# zeros\n"),
                      "tests/reference_zeros")


@pytest.fixture
def with_zeros(monkeypatch):
    """The registry with one more assignment that has no recogniser of its own."""
    entries = dict(assignments.registry(), zeros=_zeros())
    monkeypatch.setattr(assignments, "registry", lambda: MappingProxyType(entries))


def test_an_assignment_is_recognised_by_the_files_only_it_has(tmp_path, with_zeros):
    (tmp_path / "zeros.py").write_text("")
    assignment, why = assignments.recognise(tmp_path)
    assert assignment.name == "zeros" and why == "the folder has zeros.py"
    others = ", ".join(name for name in assignments.names() if name != "zeros")
    assert others.startswith("current, models-only, models-only-q6")
    assert assignments.announcement(assignment, why) == (
        "graded as assignment zeros (a model that returns zeros), because the folder has "
        f"zeros.py; choose another with --course ({others})")
    # Beside more of the default assignment's files, they stay the course's.
    make_submission(tmp_path)
    assert assignments.recognise(tmp_path) == (assignments.get(), "")


def test_the_course_versions_are_recognised_from_the_source(tmp_path, with_zeros):
    folder = tmp_path / "earlier"
    folder.mkdir()
    (folder / "models.py").write_text((ROOT / "tests" / "reference_models_only" /
                                       "models.py").read_text())
    assignment, why = assignments.recognise(folder)
    assert assignment.name == "models-only-q6" and "train(self, dataset)" in why
    assert assignments.recognise(tmp_path)[0].name == "current"     # an empty folder


def test_the_help_lists_each_assignment_on_its_own_lines(with_zeros):
    text = assignments.help_epilog()
    assert text.splitlines()[0] == "course versions and other assignments (--course NAME):"
    zeros = [line for line in text.splitlines() if line.startswith("  zeros ")]
    assert len(zeros) == 1 and zeros[0].split(None, 1)[1] == "a model that returns zeros"
    def column(line):       # where the summary text starts on this line
        if line.startswith("   "):
            return len(line) - len(line.lstrip())
        name = line.split()[0]
        return line.index(line[2 + len(name):].lstrip(), 2 + len(name))
    starts = {column(line) for line in text.splitlines()[1:]}
    assert len(starts) == 1, "every summary starts in one column"
    assert all(len(line) <= 80 for line in text.splitlines())
    ids = assignments.question_ids()
    assert ids[:len(QUESTIONS)] == [q.id for q in QUESTIONS] and len(set(ids)) == len(ids)
    assert "q1" in ids and all(q.id in ids for a in assignments.registry().values()
                               for q in a.questions)


def test_two_assignments_may_share_a_data_file_only_with_one_digest(monkeypatch):
    course = assignments.get()
    other = Assignment("other", "x", (), (), course.release, "tests/reference_other",
                       data=(type(course.data[0])(course.data[0].name, "0" * 64),))
    entries = dict(assignments.registry(), other=other)
    monkeypatch.setattr(assignments, "registry", lambda: MappingProxyType(entries))
    with pytest.raises(ValueError, match="other gives data/mnist.npz another sha256"):
        assignments.data_files()
