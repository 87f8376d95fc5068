"""`--isolation bwrap`: each question's sandbox inside bubblewrap sees only what it
must (grader/judge/bubblewrap.py), and without bubblewrap the judge still ends the
processes student code leaves behind (grader/judge/strays.py).

The end-to-end tests run the autograder as an unprivileged user, as an instructor
on a lab machine would: when the tests run as root (CI), as the user
``graderstudent`` (created if missing, as in test_isolation.py), from a copy of the
project that user owns. Tests that need bubblewrap skip where it is missing or
cannot start; `.ci/run` installs it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.judge import bubblewrap, isolation
from helpers import (ROOT, copy_project, make_submission, process_tree, still_running,
                     wait_for)
from test_isolation import CHEAT_MODELS, NO_TRAINING, python_reachable, sandbox_user

__all__ = ["python_reachable", "sandbox_user"]     # fixtures, used by name below

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="bubblewrap, /proc and subreapers are Linux's")


def _bubblewrap_problem() -> str:
    """Why bubblewrap cannot be used here ('' when it can)."""
    binary = bubblewrap.find()
    if binary is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    trial = subprocess.run([binary, "--ro-bind", "/", "/", *bubblewrap.NAMESPACES, "true"],
                           capture_output=True, text=True)
    if trial.returncode != 0:
        return f"bubblewrap cannot start a sandbox here: {trial.stderr.strip()}"
    return ""


BUBBLEWRAP_PROBLEM = _bubblewrap_problem()
needs_bwrap = pytest.mark.skipif(bool(BUBBLEWRAP_PROBLEM), reason=BUBBLEWRAP_PROBLEM)

# q1 code that looks around, reaches out, writes into its own folder and leaves a
# double-forked setsid() daemon behind (its command line carries DAEMON_TOKEN, so
# the test can find its real process id), then waits for the test's SIGUSR2.
PROWLER = '''
import os as _os
import signal as _signal
import socket as _socket
import sys as _sys


def _probe(label, action):
    try:
        print(label, "OK", action(), flush=True)
    except OSError as error:
        print(label, "DENIED", type(error).__name__, flush=True)


def _connect():
    with _socket.create_connection(("127.0.0.1", PORT), timeout=10):
        return "connected"


def _write_own_folder():
    folder = _os.path.dirname(_os.path.abspath(__file__))
    with open(_os.path.join(folder, "planted.txt"), "w") as planted:
        planted.write("written by student code")
    with open(_os.path.join(folder, "models.py"), "a") as models:
        models.write("# changed by student code")
    return "written"


# The daemon says it is ready, then waits for the test's SIGUSR2 and says "go"
# through the same pipe: the question goes on only once the test has seen it.
_DAEMON = (
    "import os, signal, sys, time\\n"
    "pipe = int(sys.argv[1])\\n"
    "signal.signal(signal.SIGUSR2, lambda *_: os.write(pipe, b'g'))\\n"
    "os.write(pipe, b'r')\\n"
    "time.sleep(600)\\n")


def _start_daemon():
    read, write = _os.pipe()
    if _os.fork() == 0:
        _os.setsid()
        if _os.fork() == 0:
            null = _os.open(_os.devnull, _os.O_RDWR)
            for fd in (0, 1, 2):
                _os.dup2(null, fd)
            _os.set_inheritable(write, True)
            _os.execv(_sys.executable, [_sys.executable, "-c", _DAEMON, str(write),
                                        DAEMON_TOKEN])
        _os._exit(0)
    _os.wait()
    _os.close(write)
    assert _os.read(read, 1) == b"r"
    print("DAEMON STARTED", flush=True)
    assert _os.read(read, 1) == b"g"


_DONE = []


_original_train = train_perceptron


def train_perceptron(model, dataset):
    if _DONE:       # q1 trains twice
        return _original_train(model, dataset)
    _DONE.append(True)
    _probe("LIST-HOME", lambda: sorted(_os.listdir(HOME)))
    _probe("READ-SECRET", lambda: open(_os.path.join(HOME, "secret.txt")).read())
    _probe("LIST-GRADER", lambda: sorted(_os.listdir(GRADER)))
    _probe("READ-LABELS", lambda: len(open(_os.path.join(GRADER, "data", "mnist.npz"), "rb").read()))
    _probe("CONNECT", _connect)
    _probe("WRITE-OWN-FOLDER", _write_own_folder)
    _start_daemon()
    return _original_train(model, dataset)
'''


# ------------------------------------------------------------------ the judge's user

@pytest.fixture
def judge(request):
    """How to run the autograder as an unprivileged user: a Judge."""
    if isolation.effective():
        account = request.getfixturevalue("sandbox_user")
        request.getfixturevalue("python_reachable")
    else:
        account = None
    folder = Path(tempfile.mkdtemp(prefix="grader-bwrap-test-"))
    os.chmod(folder, 0o755)
    try:
        yield Judge(folder, account)
    finally:
        shutil.rmtree(folder)


class Judge:
    """A project copy, submissions and a home folder owned by the judge's user
    (``account``, or whoever runs the tests), and the autograder run as that user."""

    def __init__(self, folder: Path, account):
        self.folder, self.account = folder, account
        self.project = copy_project(folder / "project")
        self.home = folder / "home"
        self.home.mkdir()
        (self.home / "secret.txt").write_text("the instructor's secret")
        self.give(self.folder)

    def give(self, *paths: Path) -> None:
        """Make ``paths`` (and everything under them) the judge user's."""
        if self.account is None:
            return
        for top in paths:
            for path in (top, *top.rglob("*")):
                os.chown(path, self.account.uid, self.account.gid, follow_symlinks=False)

    def submission(self, name: str, appended: dict[str, str]) -> Path:
        folder = make_submission(self.folder / name, appended)
        self.give(folder)
        return folder

    def start(self, submission: Path, *args: str) -> subprocess.Popen:
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", HOME=str(self.home))
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        user = {} if self.account is None else {
            "user": self.account.uid, "group": self.account.gid, "extra_groups": []}
        return subprocess.Popen(
            [sys.executable, str(self.project / "autograder.py"), "--student-dir",
             str(submission), "--no-graphics", *args], cwd=self.folder, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **user)

    def grade(self, submission: Path, *args: str, name: str = "results"):
        """Run to the end; (stdout, stderr, exit status, the JSON results or None)."""
        json_path = self.folder / f"{name}.json"
        process = self.start(submission, "--json", str(json_path), *args)
        out, err = process.communicate(timeout=600)
        results = json.loads(json_path.read_text()) if json_path.exists() else None
        return out, err, process.returncode, results


def _daemon(token: str) -> set[tuple[int, int]]:
    """The live process whose command line carries ``token``, as process_tree gives it."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                line = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if token.encode() in line.split(b"\0"):
                return {(pid, started) for pid, started in process_tree(int(entry))
                        if pid == int(entry)}
    return set()


def _prowl(judge: Judge, mode: str, listener: socket.socket):
    """Grade the prowling q1 submission under ``--isolation mode``; returns its
    output, the daemon it started (found while it ran), the run's results and the
    submission folder."""
    token = f"grader-test-daemon-{mode}-{os.getpid()}"
    submission = judge.submission(f"prowler-{mode}", {"train.py": (
        f"HOME = {str(judge.home)!r}\nGRADER = {str(judge.project)!r}\n"
        f"PORT = {listener.getsockname()[1]}\nDAEMON_TOKEN = {token!r}\n" + PROWLER)})
    models_before = (submission / "models.py").read_bytes()
    json_path = judge.folder / f"prowler-{mode}.json"
    process = judge.start(submission, "-q", "q1", "--isolation", mode, "--json", str(json_path))
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("DAEMON STARTED"):
                break
        daemon = wait_for(lambda: _daemon(token), 30)
        assert daemon, "the student's daemon was never seen running:\n" + "".join(lines)
        for pid, _ in daemon:       # the student's code goes on
            os.kill(pid, signal.SIGUSR2)
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(lines) + out
    assert process.returncode == 0, output + err
    results = json.loads(json_path.read_text())
    changed = (submission / "models.py").read_bytes() != models_before
    return output, daemon, results, submission, changed


@pytest.fixture
def listener():
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


@needs_bwrap
def test_under_bwrap_student_code_sees_nothing_reaches_nothing_and_leaves_nothing(
        judge, listener):
    output, daemon, results, submission, changed = _prowl(judge, "bwrap", listener)
    for probe in ("LIST-HOME", "READ-SECRET", "LIST-GRADER", "READ-LABELS", "CONNECT"):
        assert f"{probe} DENIED" in output, (probe, output)
    assert "secret" not in output.replace("READ-SECRET", "")
    # It writes in its folder as in the student's own (a saved model, a plot), on a
    # copy: the submission stays as it was handed in.
    assert "WRITE-OWN-FOLDER OK written" in output, output
    assert not (submission / "planted.txt").exists() and not changed
    assert not still_running(daemon), "the daemon outlived its question"
    assert results["total"] == results["max"], results     # honest work still counts


def test_without_bwrap_the_judge_still_ends_the_daemon(judge, listener):
    output, daemon, results, submission, changed = _prowl(judge, "none", listener)
    # Unconfined, the same code reaches everything: the bwrap test above can fail.
    for probe in ("LIST-HOME", "READ-SECRET", "LIST-GRADER", "READ-LABELS", "CONNECT",
                  "WRITE-OWN-FOLDER"):
        assert f"{probe} OK" in output, (probe, output)
    assert (submission / "planted.txt").exists() and changed
    assert not still_running(daemon), "the daemon outlived its question"
    assert results["total"] == results["max"], results


@needs_bwrap
def test_under_bwrap_a_label_lookup_earns_nothing(judge):
    judge_data = judge.project / "data" / "mnist.npz"
    submission = judge.submission("cheat", {
        "models.py": f"JUDGE_DATA = {str(judge_data)!r}\n" + CHEAT_MODELS,
        "train.py": NO_TRAINING})
    earned = {}
    for mode in ("none", "bwrap"):
        out, err, status, results = judge.grade(submission, "-q", "q3", "--isolation", mode,
                                                name=mode)
        assert status == 0, out + err
        train = next(t for t in results["tests"] if t["check"] == "train")
        earned[mode] = train["points"]
        if mode == "bwrap":
            assert f"DENIED {judge_data} FileNotFoundError" in out, out
            opened = [line for line in out.splitlines() if line.startswith("OPENED")]
            assert opened and str(judge.project) not in opened[0], opened  # the public copy
            assert "test accuracy" in train["message"]
    assert earned == {"none": 3, "bwrap": 0}, earned


@needs_bwrap
def test_the_reference_earns_the_same_with_and_without_bwrap(judge):
    reference = judge.submission("reference", {})
    graded = {}
    for mode in ("none", "bwrap"):
        out, err, status, results = judge.grade(reference, "-q", "q1,q3", "--isolation", mode,
                                                name=f"reference-{mode}")
        assert status == 0, out + err
        graded[mode] = _without_timing(results)
        assert "Note: student code runs as you" not in out
    assert graded["bwrap"] == graded["none"]
    assert graded["bwrap"]["total"] == graded["bwrap"]["max"] == 10


def _without_timing(results: dict) -> dict:
    """The results without the seconds each part took."""
    if isinstance(results, dict):
        return {key: _without_timing(value) for key, value in results.items()
                if key != "seconds"}
    if isinstance(results, list):
        return [_without_timing(value) for value in results]
    return results


# ------------------------------------------------------------------ choosing a mode

def _hide_bwrap(tmp_path: Path, script: str | None = None) -> dict:
    """An environment whose PATH has no working bwrap: none, or ``script`` as bwrap."""
    folder = tmp_path / "bin"
    folder.mkdir()
    if script is not None:
        (folder / "bwrap").write_text(script)
        (folder / "bwrap").chmod(stat.S_IRWXU)
    python = Path(sys.executable).parent
    return dict(os.environ, PATH=f"{folder}:{python}", PYTHONDONTWRITEBYTECODE="1")


def _autograder(tmp_path: Path, env: dict, *args: str):
    submission = make_submission(tmp_path / "student")
    return subprocess.run([sys.executable, str(ROOT / "autograder.py"), "--student-dir",
                           str(submission), "-q", "q1", "--no-graphics", *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("bwrap", [None, "#!/bin/sh\necho 'no user namespaces' >&2\nexit 1\n"],
                         ids=["missing", "cannot-start"])
def test_bwrap_asked_for_but_unusable_is_a_usage_error(tmp_path, bwrap):
    process = _autograder(tmp_path, _hide_bwrap(tmp_path, bwrap), "--isolation", "bwrap")
    assert process.returncode == 2, process.stdout + process.stderr
    assert "autograder.py: cannot grade: --isolation bwrap:" in process.stderr
    assert ("not installed" if bwrap is None else "no user namespaces") in process.stderr
    assert "Question q1" not in process.stdout and "Traceback" not in process.stderr


@pytest.mark.parametrize("bwrap", [None, "#!/bin/sh\necho 'no user namespaces' >&2\nexit 1\n"],
                         ids=["missing", "cannot-start"])
def test_auto_without_bwrap_grades_unconfined_and_says_so_once(tmp_path, bwrap):
    process = _autograder(tmp_path, _hide_bwrap(tmp_path, bwrap))
    assert process.returncode == 0, process.stdout + process.stderr
    notes = [line for line in process.stdout.splitlines() if "unconfined" in line]
    assert len(notes) == 1, process.stdout
    assert "apt-get install bubblewrap" in notes[0] and "test labels" in notes[0]
    assert ("not installed" if bwrap is None else "no user namespaces") in notes[0]
    assert "### Question q1: 5/5 ###" in process.stdout


def test_isolation_none_with_a_sandbox_user_is_a_usage_error(tmp_path):
    process = _autograder(tmp_path, dict(os.environ), "--isolation", "none",
                          "--sandbox-user", "nobody")
    assert process.returncode == 2
    assert "--isolation none runs student code as you" in process.stderr


def test_the_command_line_knows_every_mode():
    from grader.judge import cli, confinement
    assert cli.ISOLATION_MODES == confinement.MODES


@needs_bwrap
def test_a_killed_judge_leaves_no_bwrap_sandbox(judge):
    """kill -9 of the judge: bubblewrap's --die-with-parent ends the sandbox, and its
    process-id namespace everything in it."""
    submission = judge.submission("hanging", {"models.py": (
        "print('RUNNING', flush=True)\n"
        "import time\n"
        "while True:\n"
        "    time.sleep(0.05)\n")})
    process = judge.start(submission, "-q", "q2", "--isolation", "bwrap")
    try:
        for line in process.stdout:
            if line.startswith("RUNNING"):
                break
        tree = process_tree(process.pid)
        assert len(tree) >= 3, "no bubblewrap sandbox below the autograder"
        process.kill()
        process.communicate(timeout=60)
    finally:
        process.kill()
    assert wait_for(lambda: not still_running(tree), 30), still_running(tree)


def test_gradescope_where_bwrap_cannot_start_grades_and_notes_it(tmp_path, monkeypatch):
    from test_gradescope import autograder_root
    from test_gradescope import run_autograder as run_bundle

    from grader.instructor.grading import gradescope

    from grader.instructor.release import gradescope_bundle
    root = autograder_root(gradescope_bundle.build_bundle(tmp_path / "autograder.zip"), tmp_path)
    make_submission(root / "submission")
    # A container without user namespaces: its bwrap fails to start any sandbox.
    fake = _hide_bwrap(tmp_path, "#!/bin/sh\necho 'no user namespaces' >&2\nexit 1\n")
    monkeypatch.setenv("PATH", fake["PATH"] + ":/usr/bin:/bin")
    monkeypatch.setenv(gradescope.SANDBOX_USER_VARIABLE, "")
    results = run_bundle(root, questions="q1")
    assert results["score"] == 5, results["output"]
    assert "no user namespaces" in results["output"]
    assert "apt-get install bubblewrap" in results["output"]
