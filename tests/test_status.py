"""The status line while a question trains, and the times in the report."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys

import pytest

from grader.judge.status import StatusLine, describe
from helpers import ROOT, make_submission


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_describe_shows_what_is_known():
    assert describe("q3 train", 80, 600, {}) == "q3 train: 1:20 of 10:00"
    assert describe("q3 train", 80, 600, {"epochs": 2.44, "validation": 0.96125,
                                          "loss": 0.08312}) == \
        "q3 train: 1:20 of 10:00, epoch 2.4, validation accuracy 96.12%, loss 0.08312"
    assert describe("q2", 5, 300, {"epochs": 0, "loss": "nan"}) == "q2: 0:05 of 5:00, loss nan"
    assert describe("q2", 5, 300, {"validation": "96%", "epochs": [1]}) == "q2: 0:05 of 5:00"


def test_on_a_terminal_the_line_makes_way_for_student_output():
    stream = Terminal()
    status = StatusLine(stream)
    status.update("q1", 1, 60, {"epochs": 1.0})
    status.before_output()                 # the student prints "hello\n"
    status.after_output("hello\n")
    status.before_output()                 # then a partial line: no redraw after it
    status.after_output("partial")
    status.update("q1", 2, 60, {"epochs": 2.0})
    status.before_output()
    status.after_output(" line\n")
    status.end()
    assert stream.getvalue() == (
        "\r\x1b[Kq1: 0:01 of 1:00, epoch 1.0"   # drawn
        "\r\x1b[K"                              # cleared before "hello"
        "\r\x1b[Kq1: 0:01 of 1:00, epoch 1.0"   # back after the line ended
        "\r\x1b[K"                              # cleared before "partial"; not redrawn
        "\r\x1b[Kq1: 0:02 of 1:00, epoch 2.0"   # drawn once the line ended
        "\r\x1b[K")                             # gone for the report


def test_elsewhere_a_plain_line_every_ten_seconds():
    stream = io.StringIO()
    status = StatusLine(stream)
    for second in range(0, 25):
        status.update("q3 train", second, 600, {"epochs": second / 10})
    status.before_output()
    status.after_output("student\n")
    status.end()
    assert stream.getvalue().splitlines() == [
        "[q3 train: 0:10 of 10:00, epoch 1.0]", "[q3 train: 0:20 of 10:00, epoch 2.0]"]


@pytest.mark.skipif(shutil.which("script") is None or not sys.platform.startswith("linux"),
                    reason="needs script(1) for a pseudo-terminal")
@pytest.mark.parametrize("mute", [False, True])
def test_the_status_line_appears_on_a_terminal_and_not_with_mute(tmp_path, mute):
    submission = make_submission(tmp_path / "s", {"train.py": (
        "_given = train_perceptron\n\n"
        "def train_perceptron(model, dataset):\n"
        "    print('training starts')\n"
        "    _given(model, dataset)\n")})
    command = [sys.executable, str(ROOT / "autograder.py"), "--student-dir", str(submission),
               "-q", "q1", "--no-graphics"] + (["--mute"] if mute else [])
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", COLUMNS="200")
    env.pop("DISPLAY", None)
    process = subprocess.run(["script", "-qec", " ".join(command), "/dev/null"], env=env,
                             capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr
    text = process.stdout
    lines = re.findall(r"\x1b\[Kq1 (\w+): \d:\d\d of \d:\d\d", text)
    if mute:
        assert not lines and "\x1b[K" not in text
        assert "training starts" not in text
    else:
        assert "converge" in lines or "update" in lines, text
        # the student's line is shown whole, on a line of its own
        assert re.search(r"(^|\n|\x1b\[K)training starts\r?\n", text), text
    assert re.search(r"### Question q1: 5/5 ###\r?\n\(graded in [\d.]+ s\)", text)
    assert re.search(r"Time per question: q1 [\d.]+ s \(the run took [\d.]+ s\)", text)
