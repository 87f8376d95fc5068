"""`--sandbox-user NAME`: student code runs as an unprivileged user that cannot read
the judge's labels, cannot write the grader, and leaves no process behind.

The end-to-end tests need root (CI runs as root) and create the user
``graderstudent``; elsewhere they skip. They grade from a private copy of the
project (under pytest's root-only temporary folder), as an instructor would after
`chmod -R go-rwx`.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from grader.assignments.course import splits
from grader.assignments.course.table import BLANK_DIGIT, BLANK_LANGUAGE
from grader.judge import isolation
from grader.judge.data import JudgeData
from helpers import ROOT, copy_project, make_submission, run_autograder

USER = "graderstudent"
as_root = pytest.mark.skipif(not isolation.effective(), reason="needs root (CI runs as root)")

# A q3 submission that does not learn: it looks the judge's test digits up in the
# label file it can open. The judge's copy first, then the copy backend reads.
CHEAT_MODELS = '''
import numpy as _np

_ANSWERS = None


def _answers():
    import backend
    found = {}
    for path in (JUDGE_DATA, str(backend.DATA_DIR / "mnist.npz")):
        try:
            with _np.load(path) as data:
                images, labels = data["test_images"], data["test_labels"]
        except OSError as error:
            print("DENIED", path, type(error).__name__, flush=True)
            continue
        print("OPENED", path, flush=True)
        found.update({image.tobytes(): int(label) for image, label in zip(images, labels)
                      if label < 10})
    return found


def _looked_up(self, x):
    global _ANSWERS
    if _ANSWERS is None:
        _ANSWERS = _answers()
    rows = (x.detach().numpy() * 255).round().astype(_np.uint8)
    scores = torch.zeros(len(rows), 10)
    for i, row in enumerate(rows):
        if row.tobytes() in _ANSWERS:
            scores[i, _ANSWERS[row.tobytes()]] = 1.0
    return scores + 0 * sum(p.sum() for p in self.parameters())


DigitClassificationModel.forward = _looked_up
'''
NO_TRAINING = "def train_digitclassifier(model, dataset):\n    pass\n"

# q1 code that tries to change the grader and leaves a detached process behind.
ROGUE_PERCEPTRON = '''
import os as _os
import backend as _backend


def _try_write(path):
    try:
        with open(path, "a") as handle:
            handle.write("# changed by student code\\n")
        print("WROTE", path, flush=True)
    except OSError as error:
        print("DENIED-WRITE", path, type(error).__name__, flush=True)


def _detach():
    if _os.fork() == 0:
        _os.setsid()
        if _os.fork() == 0:
            print("STRAY", _os.getpid(), flush=True)
            import time
            time.sleep(600)
        _os._exit(0)
    _os.wait()


_original_train = train_perceptron


def train_perceptron(model, dataset):
    _try_write(_backend.__file__)
    _try_write(JUDGE_BACKEND)
    _detach()
    return _original_train(model, dataset)
'''


def test_public_data_blanks_the_scored_labels_only():
    data = JudgeData(ROOT / "data")
    mnist = data.arrays("mnist.npz")
    mnist_file, language_file = data.files    # the course's, with their withheld labels
    public = isolation.public_data(mnist_file, mnist)
    assert np.array_equal(public["test_images"], mnist["test_images"])
    assert np.array_equal(public["train_labels"], mnist["train_labels"])
    dev, test = splits.MNIST_DEV_ROWS, splits.MNIST_TEST_ROWS
    assert np.array_equal(public["test_labels"][dev], mnist["test_labels"][dev])
    assert (public["test_labels"][test] == BLANK_DIGIT).all()
    assert (mnist["test_labels"][test] < 10).all(), "the judge's own copy must stay intact"
    language = isolation.public_data(language_file, data.arrays("lang_id.npz"))
    assert (language["test_y"] == BLANK_LANGUAGE).all()
    assert np.array_equal(language["dev_y"], data.arrays("lang_id.npz")["dev_y"])


@pytest.fixture
def open_folder():
    """A folder in the system's temporary folder that everyone may search."""
    folder = Path(tempfile.mkdtemp(prefix="grader-access-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder)


def test_can_access_reads_owner_group_and_other_bits(open_folder):
    folder = open_folder / "folder"
    folder.mkdir()
    target = folder / "labels.npz"
    target.write_bytes(b"x")
    info = target.stat()
    owner = isolation.SandboxAccount("owner", info.st_uid, info.st_gid, frozenset({info.st_gid}))
    other = isolation.SandboxAccount("other", info.st_uid + 4242, info.st_gid + 4242,
                                     frozenset({info.st_gid + 4242}))
    member = isolation.SandboxAccount("member", info.st_uid + 4242, info.st_gid + 4242,
                                      frozenset({info.st_gid}))
    os.chmod(folder, 0o755)
    for mode, expected in ((0o644, (True, True, True)), (0o640, (True, True, False)),
                           (0o600, (True, False, False))):
        os.chmod(target, mode)
        assert (isolation.can_access(owner, target), isolation.can_access(member, target),
                isolation.can_access(other, target)) == expected, oct(mode)
    os.chmod(target, 0o666)
    assert isolation.can_access(other, target, write=True)
    os.chmod(folder, 0o700)   # a folder on the way that others cannot search hides the file
    assert not isolation.can_access(other, target)
    assert not isolation.can_access(other, target, write=True)
    assert isolation.can_access(owner, target)
    os.chmod(folder, 0o755)


def test_without_root_the_option_only_adds_a_note(tmp_path, monkeypatch):
    if isolation.effective():
        monkeypatch.setattr(isolation, "effective", lambda: False)
        from grader.judge import confinement
        chosen, notes = confinement.choose("auto", USER, ROOT, JudgeData(ROOT / "data"))
        chosen.close()
        assert chosen.user is None
        assert any("takes effect only when the autograder runs as root" in n for n in notes)
        return
    process, results = run_autograder("--student-dir", str(make_submission(tmp_path / "s")),
                                      "-q", "q6", "--no-graphics", "--sandbox-user", "nobody",
                                      "--json", str(tmp_path / "r.json"))
    assert process.returncode == 0, process.stderr
    assert "takes effect only when the autograder runs as root" in process.stdout
    assert results["total"] == results["max"]


# ------------------------------------------------------------------ as root

@pytest.fixture(scope="module")
def sandbox_user():
    if not isolation.effective():
        pytest.skip("needs root (CI runs as root)")
    if shutil.which("useradd") is None:
        pytest.skip("useradd is not installed")
    try:
        return isolation.account(USER)
    except isolation.IsolationError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
                       check=True)
        return isolation.account(USER)


@pytest.fixture(scope="module")
def python_reachable(sandbox_user):
    """Let the user search the folders above this Python and its packages (o+x, which
    lists nothing), as an instructor must; put the modes back afterwards."""
    import numpy
    import torch
    changed = {}
    for path in (Path(sys.executable).resolve(), Path(sys.prefix), Path(sys.base_prefix),
                 Path(torch.__file__), Path(numpy.__file__)):
        for folder in path.parents:
            mode = folder.stat().st_mode
            if folder not in changed and not mode & stat.S_IXOTH:
                changed[folder] = stat.S_IMODE(mode)
                os.chmod(folder, stat.S_IMODE(mode) | stat.S_IXOTH)
    yield
    for folder, mode in changed.items():
        os.chmod(folder, mode)


@pytest.fixture
def private_project(tmp_path):
    """A copy of the project that only root can read (pytest's folder is root's)."""
    project = copy_project(tmp_path / "project")
    assert not stat.S_IMODE(tmp_path.parent.parent.stat().st_mode) & 0o007
    return project


def grade_isolated(project: Path, submission: Path, question: str, tmp_path: Path,
                   user: str | None = USER):
    # The user alone (bubblewrap's own tests are in test_bwrap.py); without a user,
    # unconfined, as the control that shows the cheat works.
    options = ["--sandbox-user", user, "--isolation", "user"] if user else ["--isolation",
                                                                           "none"]
    return run_autograder("--student-dir", str(submission), "-q", question, "--no-graphics",
                          "--json", str(tmp_path / f"{question}-{bool(user)}.json"), *options,
                          cwd=tmp_path, project=project, timeout=600)


@as_root
def test_sandboxed_code_cannot_read_the_labels_and_earns_nothing_for_trying(
        sandbox_user, python_reachable, private_project, tmp_path):
    judge_data = private_project / "data" / "mnist.npz"
    submission = make_submission(tmp_path / "cheat", {
        "models.py": f"JUDGE_DATA = {str(judge_data)!r}\n" + CHEAT_MODELS,
        "train.py": NO_TRAINING})

    # As the judge's own user the cheat works: the check below can fail.
    process, plain = grade_isolated(private_project, submission, "q3", tmp_path, user=None)
    assert f"OPENED {judge_data}" in process.stdout, process.stdout + process.stderr
    train = next(t for t in plain["tests"] if t["question"] == "q3" and t["check"] == "train")
    assert train["points"] == train["max"] == 3, train

    process, isolated = grade_isolated(private_project, submission, "q3", tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr
    assert f"DENIED {judge_data} PermissionError" in process.stdout
    opened = [line for line in process.stdout.splitlines() if line.startswith("OPENED")]
    assert opened and str(private_project) not in opened[0], opened   # only the public copy
    train = next(t for t in isolated["tests"] if t["question"] == "q3" and t["check"] == "train")
    assert train["points"] == 0, train
    assert "test accuracy" in train["message"]


@as_root
def test_sandboxed_code_cannot_change_the_grader_or_stay_behind(
        sandbox_user, python_reachable, private_project, tmp_path):
    judge_backend = private_project / "backend.py"
    before = judge_backend.read_bytes()
    submission = make_submission(tmp_path / "rogue", {
        "train.py": f"JUDGE_BACKEND = {str(judge_backend)!r}\n" + ROGUE_PERCEPTRON})
    process, results = grade_isolated(private_project, submission, "q1", tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "WROTE" not in process.stdout
    assert process.stdout.count("DENIED-WRITE") >= 2, process.stdout
    assert judge_backend.read_bytes() == before
    assert results["total"] == results["max"], results   # honest work still counts
    strays = [int(line.split()[1]) for line in process.stdout.splitlines()
              if line.startswith("STRAY")]
    assert strays, process.stdout
    time.sleep(0.5)
    for pid in strays:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}").stat().st_uid != sandbox_user.uid, f"process {pid} survived"


@as_root
def test_refuses_when_the_user_could_read_the_labels(sandbox_user, tmp_path):
    shared = Path(tempfile.mkdtemp(prefix="grader-exposed-"))
    try:
        os.chmod(shared, 0o755)
        project = copy_project(shared / "project")
        process, _ = grade_isolated(project, make_submission(tmp_path / "s"), "q6", tmp_path)
        assert process.returncode == 2, process.stdout + process.stderr
        assert f"it can read {project / 'data' / 'mnist.npz'} (the test labels)" in process.stderr
        assert "chmod -R go-rwx" in process.stderr
        assert "Question q6" not in process.stdout
    finally:
        shutil.rmtree(shared)


@as_root
def test_unknown_user_is_a_clear_error(tmp_path):
    process, _ = grade_isolated(ROOT, make_submission(tmp_path / "s"), "q6", tmp_path,
                                user="no-such-user-here")
    assert process.returncode == 2
    assert "there is no user 'no-such-user-here'" in process.stderr
    assert "Traceback" not in process.stderr


@as_root
def test_gradescope_runs_student_code_as_the_sandbox_user(
        sandbox_user, python_reachable, tmp_path, monkeypatch):
    from test_gradescope import autograder_root
    from test_gradescope import run_autograder as run_bundle

    from grader.instructor.grading import gradescope

    from grader.instructor.release import gradescope_bundle
    root = autograder_root(gradescope_bundle.build_bundle(tmp_path / "autograder.zip"), tmp_path)
    judge_data = root / "source" / "data" / "mnist.npz"
    make_submission(root / "submission", {
        "models.py": f"JUDGE_DATA = {str(judge_data)!r}\n" + CHEAT_MODELS,
        "train.py": NO_TRAINING})
    monkeypatch.setenv(gradescope.SANDBOX_USER_VARIABLE, USER)
    monkeypatch.setenv(gradescope.ISOLATION_VARIABLE, "user")
    results = run_bundle(root, questions="q1,q3")
    scores = {test["name"]: (test["score"], test["max_score"]) for test in results["tests"]}
    assert all(score == top for name, (score, top) in scores.items() if "q1" in name), scores
    train = [score for name, (score, _) in scores.items() if "q3" in name and "accuracy" in name]
    assert train == [0], scores
    assert f"DENIED {judge_data} PermissionError" in json.dumps(results)
    assert not stat.S_IMODE((root / "source").stat().st_mode) & 0o077, "source is root's alone"


@as_root
def test_bulk_grades_as_the_sandbox_user(sandbox_user, python_reachable, tmp_path):
    from test_bulk import bulk, rows
    out = tmp_path / "out"
    judge_data = out / ".work" / "run-*" / "staff" / "data" / "mnist.npz"   # bulk's staff copy
    make_submission(tmp_path / "submissions" / "mallory", {
        "models.py": f"import glob\nJUDGE_DATA = (glob.glob({str(judge_data)!r}) or ['?'])[0]\n"
                     + CHEAT_MODELS,
        "train.py": NO_TRAINING})
    earned = {}
    for options in (("--isolation", "none"), ("--sandbox-user", USER, "--isolation", "user")):
        process = bulk("bulk", tmp_path / "submissions", "--out", out, "-q", "q3", "--force",
                       *options)
        assert process.returncode == 0, process.stdout + process.stderr
        [possible, row] = rows(out)
        assert row["status"] == "graded", row
        earned[options] = float(row["q3"])
    assert earned[("--isolation", "none")] - earned[options] == 3, earned   # the accuracy check

    process = bulk("bulk", tmp_path / "submissions", "--out", tmp_path / "o2",
                   "--sandbox-user", "no-such-user-here")
    assert process.returncode == 2
    assert "there is no user 'no-such-user-here'" in process.stderr


@as_root
def test_another_assignment_runs_as_the_sandbox_user_from_the_public_copy(
        sandbox_user, python_reachable, private_project, tmp_path):
    """mlp-from-scratch's support module and data come from the public copy, whose
    test labels are all blanked (that assignment scores every test digit)."""
    reference = ROOT / "tests" / "reference_mlp_from_scratch"
    process, results = grade_isolated(private_project, reference, "q1,q4", tmp_path)
    assert process.returncode == 0, process.stdout + process.stderr
    assert results["course"] == "mlp-from-scratch" and results["total"] == 10, process.stdout
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "mlp.py").write_text(
        "import numpy as np\n"
        "import mlp_data\n"
        "class MLP:\n"
        "    def __init__(self):\n"
        "        labels = mlp_data.load_digits().test_digits\n"
        "        print('TEST DIGITS SEEN:', sorted(set(np.asarray(labels).tolist())))\n"
        "        raise SystemExit(0)\n")
    process, _ = grade_isolated(private_project, probe, "q1", tmp_path)
    assert "TEST DIGITS SEEN: [255]" in process.stdout, process.stdout
