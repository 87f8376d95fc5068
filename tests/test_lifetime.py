"""A stopped grader leaves nothing running: autograder.py under SIGTERM and SIGKILL,
bulk runs that share an OUT folder, and the helpers behind them
(grader/core/lifetime.py, grader/instructor/grading/work_folder.py)."""

import os
import signal
import subprocess
import sys

import pytest

from helpers import ROOT, make_submission, process_tree, still_running, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc; parent-death signals are Linux's")


def hanging_submission(folder, marker):
    """A submission whose models.py never finishes importing; ``marker`` appears once
    its code is running in the sandbox."""
    return make_submission(folder, {"models.py": (
        f"open({str(marker)!r}, 'w').close()\n"
        "import time\n"
        "while True:\n"
        "    time.sleep(0.05)\n")})


def start(*args, **options):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DISPLAY", None)
    return subprocess.Popen([sys.executable, *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **options)


def test_a_child_whose_parent_already_ended_ends_at_once():
    code = ("import signal; from grader.core.lifetime import die_with_parent; "
            "die_with_parent(signal.SIGTERM); print('still here')")
    # Parent id 1 is never ours: as if our parent had died before we asked.
    orphan = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env=dict(os.environ, GRADER_PARENT_PID="1"))
    assert orphan.returncode == -signal.SIGTERM and "still here" not in orphan.stdout
    ours = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ, GRADER_PARENT_PID=str(os.getpid())))
    assert ours.returncode == 0 and "still here" in ours.stdout


@pytest.mark.parametrize("how, jobs", [(signal.SIGTERM, "1"), (signal.SIGTERM, "2"),
                                       (signal.SIGKILL, "2")],
                         ids=["SIGTERM", "SIGTERM-j2", "SIGKILL-j2"])
def test_a_stopped_autograder_leaves_no_sandbox(tmp_path, how, jobs):
    marker = tmp_path / "running"
    student = hanging_submission(tmp_path / "student", marker)
    # Unconfined: the marker is written outside any sandbox (test_bwrap.py covers
    # bubblewrap, whose sandboxes end with the judge through --die-with-parent).
    grader = start("autograder.py", "--student-dir", student, "-q", "q1,q2", "-j", jobs,
                   "--isolation", "none",
                   "--no-graphics", "--mute")
    try:
        assert wait_for(marker.exists, 120), "the sandbox never ran the student's code"
        tree = process_tree(grader.pid)
        assert len(tree) >= 2, "no sandbox below the autograder"
        grader.send_signal(how)
        _, stderr = grader.communicate(timeout=60)
    finally:
        grader.kill()
    if how == signal.SIGTERM:
        assert grader.returncode == 143, stderr
        assert "Stopped (SIGTERM)" in stderr and "Traceback" not in stderr, stderr
        assert not still_running(tree), "the autograder exited before its sandboxes"
    wait_for(lambda: not still_running(tree), 30)     # SIGKILL: they end soon after
    assert not still_running(tree), f"left running: {still_running(tree)}"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_bulk_run_refuses_a_second_on_its_out_and_leaves_nothing_when_stopped(tmp_path, how):
    marker = tmp_path / "running"
    hanging_submission(tmp_path / "submissions" / "hanging", marker)
    out = tmp_path / "grades"
    first = start("-m", "grader", "bulk", tmp_path / "submissions", "--out", out, "-q", "q1",
                  "--isolation", "none")
    try:
        assert wait_for(marker.exists, 120), "the first run never reached student code"
        tree = process_tree(first.pid)
        assert len(tree) == 3, "bulk, its autograder.py and a sandbox"
        second = start("-m", "grader", "bulk", tmp_path / "submissions", "--out", out,
                       "-q", "q1")
        _, refused = second.communicate(timeout=120)
        assert second.returncode == 2, refused
        assert f"process {first.pid}" in refused and "another bulk run" in refused, refused
        assert still_running(tree) == tree, "the refused run disturbed the first"
        first.send_signal(how)
        _, stderr = first.communicate(timeout=120)
    finally:
        first.kill()
    if how == signal.SIGTERM:
        assert first.returncode == 143 and "Traceback" not in stderr, stderr
        assert not still_running(tree), "bulk exited before its children"
    # The sandbox would hang until q1's 120-second limit if nobody ended it.
    wait_for(lambda: not still_running(tree), 30)
    assert not still_running(tree), f"left running: {still_running(tree)}"
    assert not list((out / "results").glob("*.json")), "an interrupted grade was recorded"
    if how == signal.SIGTERM:
        assert [p.name for p in (out / ".work").iterdir()] == ["bulk.lock"]


def test_deleting_a_tree_reports_what_stayed(tmp_path, monkeypatch):
    from grader.instructor.grading.work_folder import read_only_staff_copy, remove_tree
    tree = tmp_path / "staff"
    (tmp_path / "project" / "grader").mkdir(parents=True)
    (tmp_path / "project" / "grader" / "kept.py").write_text("x = 1\n")
    (tmp_path / "project" / "autograder.py").write_text("")
    read_only_staff_copy(tree, tmp_path / "project", ("autograder.py",), ("grader",))
    real_unlink = os.unlink

    def refuse(path, *args, **kwargs):
        if str(path).endswith("kept.py"):
            raise PermissionError(13, "Permission denied")
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", refuse)
    problems = remove_tree(tree)
    assert len(problems) >= 1 and "kept.py: Permission denied" in problems[0], problems
    monkeypatch.setattr(os, "unlink", real_unlink)
    assert remove_tree(tree) == [] and not tree.exists()
