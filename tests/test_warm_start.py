"""The warm start (grader/judge/warm_start.py, grader/sandbox/warm.py): with
``--isolation none`` or ``user`` on Linux, a run of several questions forks each
sandbox from one process that has imported torch. A fork must be the sandbox a fresh
interpreter is (its own session and group, folder, environment, descriptors,
signals, user), grade the same, keep no question from changing the next, and give
way to fresh sandboxes when the warm process is gone or a fork fails."""

from __future__ import annotations

import io
import json
import re
import sys

import pytest

from grader.judge import warm_start
from helpers import REFERENCE, make_submission, points_by_test, run_autograder, wait_for

pytestmark = pytest.mark.skipif(not warm_start.supported(),
                                reason="the warm start is Linux's (fork, SCM_RIGHTS)")

# Printed by the student's models.py when it is imported: what the process looks like.
PROFILE = '''
def _profile():
    import ctypes, json, os, signal, sys, threading
    parent = open(f"/proc/{os.getppid()}/cmdline", "rb").read().replace(b"\\0", b" ")
    umask = os.umask(0)
    os.umask(umask)
    shown = {
        "own group": os.getpgid(0) == os.getpid(),
        "own session": os.getsid(0) == os.getpid(),
        "working folder": os.path.basename(os.getcwd()),
        "descriptors": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
        "environment": sorted(os.environ),
        "hash seed": os.environ.get("PYTHONHASHSEED"),
        "hash": hash("a fixed string"),
        "argv": sys.argv[0],
        # the grader's copy as <grader>: a fork must not keep the warm process's own
        "path": ["<grader>" if folder == sys.path[0] else
                 "<another copy>" if "grader-staff-" in folder else folder
                 for folder in sys.path],
        "signals": {name: getattr(handler, "__qualname__", str(handler)) for name, handler
                    in ((name, signal.getsignal(getattr(signal, name))) for name in
                        ("SIGINT", "SIGTERM", "SIGCHLD", "SIGPIPE", "SIGALRM"))},
        "umask": umask,
        "threads": threading.active_count(),
        "user": os.getuid(),
        "dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0),
        "limit": __import__("resource").getrlimit(__import__("resource").RLIMIT_AS),
    }
    print("PROFILE " + json.dumps({"warm": b"grader.sandbox.warm" in parent,
                                   "profile": shown}), flush=True)
_profile()
'''


def profiles(stdout: str) -> list[dict]:
    return [json.loads(line.split(" ", 1)[1]) for line in stdout.splitlines()
            if line.startswith("PROFILE ")]


def grade(tmp_path, submission, *args, name="results.json"):
    process, results = run_autograder("--student-dir", str(submission), "--no-graphics",
                                      "--json", str(tmp_path / name), *args,
                                      cwd=tmp_path, timeout=600)
    assert process.returncode == 0, process.stdout + process.stderr
    return process, results


def grade_unconfined(tmp_path, losses: str, questions: str):
    """The staff solution with ``losses`` appended to losses.py, graded unconfined
    (where the warm start applies), one question at a time, on one seed."""
    submission = make_submission(tmp_path / "student", {"losses.py": losses})
    return grade(tmp_path, submission, "-q", questions, "-j", "1", "--isolation", "none",
                 "--attempts", "1")


def test_a_forked_sandbox_is_what_a_fresh_one_is_and_grades_the_same(tmp_path):
    submission = make_submission(tmp_path / "student", {"models.py": PROFILE})
    options = ("-q", "q1,q2,q6", "-j", "1", "--isolation", "none", "--attempts", "1")
    warm, warm_results = grade(tmp_path, submission, *options, name="warm.json")
    fresh, fresh_results = grade(tmp_path, submission, *options, "--no-warm-start",
                                 name="fresh.json")
    forked, started = profiles(warm.stdout), profiles(fresh.stdout)
    assert len(forked) == len(started) == 3, warm.stdout    # q1, q2 and q6 import models
    assert all(p["warm"] for p in forked), warm.stdout      # the check can fail
    assert not any(p["warm"] for p in started), fresh.stdout
    assert [p["profile"] for p in forked] == [p["profile"] for p in started]
    assert forked[0]["profile"]["own group"] and forked[0]["profile"]["own session"]
    # The same grades and messages, figures included.
    assert [(t["question"], t["check"], t["points"], t["message"])
            for t in warm_results["tests"]] == [
        (t["question"], t["check"], t["points"], t["message"]) for t in fresh_results["tests"]]
    assert warm_results["total"] == warm_results["max"], warm_results


TAMPER = '''
def _tamper():
    import os, re
    parent = open(f"/proc/{os.getppid()}/cmdline", "rb").read().decode()
    found = re.search(r"sys.path\\[0\\] = '([^']+)'", parent)
    if "grader.sandbox.warm" not in parent or not found:
        return
    changed = 0
    for folder, _, names in os.walk(found.group(1)):
        for name in names:
            if name.endswith(".py") and "sandbox" not in folder:
                with open(os.path.join(folder, name), "a") as source:
                    source.write("\\nraise RuntimeError('tampered')\\n")
                changed += 1
    print(f"TAMPERED {changed}", flush=True)
_tamper()
'''


def test_a_question_cannot_change_the_code_the_next_questions_are_forked_with(tmp_path):
    """Unconfined, student code can write the warm process's copy of the grader; the
    next questions still import their own copies and grade as before."""
    process, results = grade_unconfined(tmp_path, TAMPER, "q2,q5,q6")
    tampered = re.findall(r"TAMPERED (\d+)", process.stdout)
    assert tampered and int(tampered[0]) > 10, process.stdout     # it did write them
    assert results["total"] == results["max"], points_by_test(results)


KILL_PARENT = '''
def _kill_the_warm_process():
    import os, signal
    parent = open(f"/proc/{os.getppid()}/cmdline", "rb").read()
    if b"grader.sandbox.warm" in parent and not os.path.exists(MARK):
        open(MARK, "w").close()
        os.kill(os.getppid(), signal.SIGKILL)
_kill_the_warm_process()
'''


def test_when_the_warm_process_is_gone_the_next_questions_start_afresh(tmp_path):
    mark = tmp_path / "killed"
    process, results = grade_unconfined(tmp_path, f"MARK = {str(mark)!r}\n" + KILL_PARENT,
                                        "q2,q5,q6")
    assert mark.exists(), process.stdout
    by_question = {q: r["points"] for q, r in results["questions"].items()}
    # q2's own code killed the process it came from, and with it itself (the steps
    # before it imported losses.py count).
    q2 = [t for t in results["tests"] if t["question"] == "q2" and t["points"] < t["max"]]
    assert q2 and "SIGKILL" in q2[0]["message"], results["tests"]
    assert by_question["q5"] == results["questions"]["q5"]["max"], process.stdout
    assert by_question["q6"] == results["questions"]["q6"]["max"], process.stdout


DAEMON = '''
def _leave_a_daemon():
    import os, time
    parent = open(f"/proc/{os.getppid()}/cmdline", "rb").read()
    if b"grader.sandbox.warm" not in parent or os.path.exists(PIDS + ".started"):
        return
    open(PIDS + ".started", "w").close()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            with open(PIDS, "w") as pids:
                pids.write(str(os.getpid()))
            while True:
                time.sleep(0.1)
        os._exit(0)
_leave_a_daemon()
'''


def test_a_daemon_a_fork_leaves_is_ended_with_its_question(tmp_path):
    pids = tmp_path / "daemon.pid"
    process, results = grade_unconfined(tmp_path, f"PIDS = {str(pids)!r}\n" + DAEMON, "q2,q6")
    assert wait_for(pids.exists, 10), process.stdout      # it did start one
    daemon = int(pids.read_text())
    assert wait_for(lambda: not alive(daemon), 10), f"daemon {daemon} survived"
    assert results["total"] == results["max"], points_by_test(results)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_a_fork_that_cannot_become_its_sandbox_is_ours_and_the_question_starts_afresh(
        tmp_path, monkeypatch, capsys):
    """A fork that fails before any student code runs (here: an environment it cannot
    take) costs the student nothing: the question runs in a fresh interpreter."""
    from grader import assignments
    from grader.judge.confinement import Confinement
    from grader.judge.data import JudgeData
    from grader.judge.grading import Grader, Settings
    from grader.judge.report import Reporter
    from helpers import ROOT

    spawn = warm_start.WarmStart.spawn
    forks = []

    def broken_spawn(self, job_dir, cwd, env, root, user):
        sandbox = spawn(self, job_dir, cwd, dict(env, **{"NOT=A NAME": "x"}), root, user)
        forks.append(sandbox)
        return sandbox

    monkeypatch.setattr(warm_start.WarmStart, "spawn", broken_spawn)
    assignment = assignments.get("current")
    settings = Settings(project_root=ROOT, student_dir=REFERENCE, mute=True,
                        assignment=assignment, attempts=1)
    confinement = Confinement("none")
    grader = Grader(settings, JudgeData(ROOT / "data"), Reporter(stream=io.StringIO()),
                    confinement)
    questions = [q for q in assignment.questions if q.id in ("q5", "q6")]
    results = grader.grade(questions, honour_prerequisites=False)
    assert forks and forks[0] is not None, "the warm start was not used: the test shows nothing"
    assert [r.points for r in results] == [r.max_points for r in results], results
    assert "the warm start failed" in capsys.readouterr().err
    assert confinement.warm is None


@pytest.mark.skipif(sys.platform != "linux", reason="Linux")
def test_as_the_sandbox_user_a_fork_drops_to_it_and_cannot_touch_the_warm_process(
        tmp_path, request):
    account = request.getfixturevalue("sandbox_user")
    request.getfixturevalue("python_reachable")
    project = request.getfixturevalue("private_project")
    submission = make_submission(tmp_path / "student", {"models.py": PROFILE + '''
def _signal_the_parent():
    import os, signal
    try:
        os.kill(os.getppid(), signal.SIGKILL)
        print("KILLED THE PARENT", flush=True)
    except PermissionError:
        print("DENIED", flush=True)
_signal_the_parent()
'''})
    submission.chmod(0o755)
    for path in submission.iterdir():
        path.chmod(0o644)
    process, results = run_autograder(
        "--student-dir", str(submission), "--no-graphics", "-q", "q1,q2", "-j", "1",
        "--isolation", "user", "--sandbox-user", account.name, "--attempts", "1",
        "--json", str(tmp_path / "results.json"), cwd=tmp_path, project=project,
        timeout=600)
    assert process.returncode == 0, process.stdout + process.stderr
    forked = profiles(process.stdout)
    assert [p["warm"] for p in forked] == [True, True], process.stdout
    assert {p["profile"]["user"] for p in forked} == {account.uid}
    assert all(p["profile"]["dumpable"] == 1 for p in forked), forked
    assert process.stdout.count("DENIED") == 2 and "KILLED THE PARENT" not in process.stdout
    assert results["total"] == results["max"], points_by_test(results)


# The fixtures of the sandbox user's tests, as root (CI runs as root):
from test_isolation import private_project, python_reachable, sandbox_user  # noqa: E402,F401,F811
