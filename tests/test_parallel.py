"""Questions graded side by side (-j): the same grades and the same text as one by
one, blocks printed in order as soon as they can be, and Ctrl-C stops everything."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from grader.judge.status import StatusLine
from helpers import ROOT, make_submission, processes_in, run_autograder

QUICK = "q1,q2,q6"
VARYING = ("seconds", "figures")


def _stable(results: dict) -> dict:
    """The results without what varies from run to run (times)."""
    results = json.loads(json.dumps(results))
    results.pop("seconds")
    for question in results["questions"].values():
        question.pop("seconds")
    for test in results["tests"]:
        test.pop("seconds")
    return results


def _blocks(text: str) -> list[str]:
    """The question blocks of a run's output, without their times."""
    body = text.split("Finished at")[0]
    body = re.sub(r"\(graded in [^)]*\)", "", body)
    return re.split(r"\n(?=Question q\d\n)", body)[1:]


def test_side_by_side_gives_the_same_grades_and_text(tmp_path):
    student = make_submission(tmp_path / "student", {"train.py": (
        "_given = train_regression\n\n"
        "def train_regression(model, dataset):\n"
        "    print('regression starts')\n"
        "    _given(model, dataset)\n"
        "    print('regression ends')\n")})
    runs = {}
    for jobs in ("1", "2"):
        process, results = run_autograder("-q", QUICK, "--student-dir", str(student),
                                          "--no-graphics", "-j", jobs,
                                          "--json", str(tmp_path / f"{jobs}.json"))
        assert process.returncode == 0, process.stderr
        runs[jobs] = (process.stdout, results)
    assert _stable(runs["1"][1]) == _stable(runs["2"][1])
    assert runs["1"][1]["total"] == runs["1"][1]["max"] == 12
    assert _blocks(runs["1"][0]) == _blocks(runs["2"][0])
    assert [block.split("\n")[0] for block in _blocks(runs["2"][0])] == ["Question q1",
                                                                          "Question q2",
                                                                          "Question q6"]
    # the student's lines sit inside their question's block
    q2 = _blocks(runs["2"][0])[1]
    assert q2.index("regression starts") < q2.index("regression ends") < q2.index("### Question q2")


def test_status_line_shows_every_running_question():
    stream = io.StringIO()
    status = StatusLine(stream)
    status.terminal = True
    status.update("q3 train", 5, 600, {}, key="q3")
    status.update("q4 train", 3, 600, {"epochs": 1.0}, key="q4")
    assert status.text == "q3 train: 0:05 of 10:00 | q4 train: 0:03 of 10:00, epoch 1.0"
    status.end("q3")
    assert status.text == "q4 train: 0:03 of 10:00, epoch 1.0"
    assert stream.getvalue().endswith("\r\x1b[Kq4 train: 0:03 of 10:00, epoch 1.0")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_hanging_question_holds_back_only_later_blocks_and_ctrl_c_stops_all(tmp_path):
    student = make_submission(tmp_path / "student", {"train.py": (
        "def train_regression(model, dataset):\n"
        "    while True:\n"
        "        pass\n")})
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DISPLAY", None)
    grader = subprocess.Popen([sys.executable, str(ROOT / "autograder.py"), "-q", QUICK,
                               "--student-dir", str(student), "--no-graphics", "-j", "3",
                               "--isolation", "none"],      # sandboxes work in student/
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env)
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(grader.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while not any("### Question q1" in line for line in seen) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert any("### Question q1" in line for line in seen), "q1 was held back"
    time.sleep(8)                         # q6 (2 s) is done by now, but q2 still hangs
    assert not any("Question q6" in line for line in seen), "q6 printed before q2"
    assert len(processes_in(student.resolve())) >= 1
    grader.send_signal(signal.SIGINT)
    _, stderr = grader.communicate(timeout=60)
    assert grader.returncode == 130, stderr
    time.sleep(0.5)
    assert processes_in(student.resolve()) == []
