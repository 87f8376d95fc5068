"""Broken submissions: each costs exactly the points it should, with a clear message,
and never more than its own question.

Every submission is the staff reference solution with a few lines appended to one
file (a later definition replaces an earlier one).
"""

import hashlib
import signal
import subprocess
import sys
import time

import pytest

from grader.core.table import LIMITS
from helpers import (
    ROOT,
    copy_project,
    make_submission,
    messages,
    points_by_test,
    processes_in,
    run_autograder,
)

Q2_SANITY = "q2: RegressionModel and regression_loss: shapes and gradients"
Q2_FIT = "q2: train_regression: mean squared error on sin(x)"

# name: (appended code per file, questions, extra flags, expected points per test,
#        text expected in the failing messages)
CASES = {
    "syntax_error": (
        {"models.py": "def broken(:\n    pass"}, "q1", [],
        {"q1: PerceptronModel: weights, scores and predictions": 0,
         "q1: train_perceptron: update rule": 0, "q1: train_perceptron: 100% training accuracy": 0},
        "models.py has a syntax error (models.py, line"),
    "import_error": (
        {"models.py": "import no_such_module_for_grading"}, "q1", [],
        {"q1: PerceptronModel: weights, scores and predictions": 0},
        "models.py could not be imported: raised ModuleNotFoundError: No module named "
        "'no_such_module_for_grading'"),
    "missing_function": (
        {"train.py": "del train_regression"}, "q2", [],
        {Q2_SANITY: 2, Q2_FIT: 0},
        "train.py has no train_regression"),
    "wrong_output_shape": (
        {"models.py": "_Fitted = RegressionModel\n"
                      "class RegressionModel(_Fitted):\n"
                      "    def forward(self, x):\n"
                      "        return super().forward(x).reshape(-1)"}, "q2", [],
        {Q2_SANITY: 0, Q2_FIT: 0},
        "models.RegressionModel.forward returned a tensor of shape (1,); expected (1, 1)"),
    "nan_loss": (
        {"losses.py": "def regression_loss(y_pred, y):\n"
                      "    return (y_pred - y).log().mean()"}, "q2", [],
        {Q2_SANITY: 0, Q2_FIT: 0},
        "the loss is nan (not a finite number)"),
    "endless_training": (
        {"train.py": "def train_regression(model, dataset):\n    while True:\n        pass"},
        "q2,q6", ["--time-limit-scale", "0.05"],
        {Q2_SANITY: 2, Q2_FIT: 0,
         "q6: AttentionBlock: causal scaled dot-product attention": 2},
        'did not finish within the time limit of 15 s of CPU time and was stopped (is there '
        'a loop that never ends, or is training very slow?); it ran '),
    "too_much_memory": (
        {"train.py": "def train_regression(model, dataset):\n"
                     "    hoard = []\n"
                     "    while True:\n"
                     "        hoard.append(tensor([1.0]).repeat(25_000_000))"}, "q2",
        ["--memory-limit", "1024"],
        {Q2_SANITY: 2, Q2_FIT: 0},
        "train.train_regression used more than the 1024 MB of memory allowed"),
    "sys_exit": (
        {"train.py": "def train_regression(model, dataset):\n"
                     "    import sys\n    sys.exit(0)"}, "q2", [],
        {Q2_SANITY: 2, Q2_FIT: 0},
        "train.train_regression called exit()/sys.exit(0)"),
    "os_exit": (
        {"train.py": "def train_regression(model, dataset):\n"
                     "    import os\n    os._exit(0)"}, "q2", [],
        {Q2_SANITY: 2, Q2_FIT: 0},
        "your code ended the process by calling os._exit(0) (train.py:"),
    "keyboard_interrupt": (
        {"train.py": "def train_regression(model, dataset):\n    raise KeyboardInterrupt"},
        "q2", [], {Q2_SANITY: 2, Q2_FIT: 0},
        "train.train_regression raised KeyboardInterrupt"),
    "segfault": (
        {"train.py": "def train_regression(model, dataset):\n"
                     "    import ctypes\n    ctypes.string_at(0)"}, "q2", [],
        {Q2_SANITY: 2, Q2_FIT: 0},
        'crashed (SIGSEGV: segmentation fault); it was here:\nFile "train.py", line'),
    "fakes_accuracy": (
        {"train.py": "def train_digitclassifier(model, dataset):\n"
                     "    import backend, numpy\n"
                     "    backend.DigitClassificationDataset.get_validation_accuracy = "
                     "lambda self: 1.0\n"
                     "    numpy.mean = lambda *args, **kwargs: 1.0\n"
                     "    numpy.argmax = lambda values, axis=None: dataset.dev_labels"}, "q3", [],
        {"q3: DigitClassificationModel and loss: shapes and gradients": 2,
         "q3: train_digitclassifier: test accuracy": 0},
        "required: 97%"),
    "hard_coded_regression": (
        {"models.py": "class RegressionModel(Module):\n"
                      "    def __init__(self):\n"
                      "        super().__init__()\n"
                      "        self.scale = Linear(1, 1)\n"
                      "        self.table = {}\n"
                      "    def forward(self, x):\n"
                      "        known = tensor([[self.table.get(round(float(v), 4), 0.0)]\n"
                      "                        for v in x.reshape(-1)])\n"
                      "        return known + x * 0 + 1e-6 * self.scale(x)",
         "train.py": "def train_regression(model, dataset):\n"
                     "    model.table = {round(float(a), 4): float(b)\n"
                     "                   for a, b in zip(dataset.x[:, 0], dataset.y[:, 0])}"},
        "q2", [], {Q2_FIT: 0},
        "the guard against lookup tables and memorising requires at most 0.1 on new x"),
    # A student bug in a tensor the grader works on (no graph to backpropagate
    # through) is the student's failure, never an autograder error (exit code 0).
    "output_without_graph": (
        {"models.py": "class RegressionModel(Module):\n"
                      "    def __init__(self):\n"
                      "        super().__init__()\n"
                      "        self.unused = Linear(1, 1)\n"
                      "    def forward(self, x):\n"
                      "        return torch.zeros(len(x), 1)",
         "train.py": "def train_regression(model, dataset):\n    pass"},
        "q2", [], {Q2_SANITY: 0, Q2_FIT: 0},
        "the model's predictions do not depend on its parameters"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_submission(case, tmp_path):
    appended, questions, flags, expected, text = CASES[case]
    student = make_submission(tmp_path / "student", appended)
    process, results = run_autograder("-q", questions, "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"), *flags)
    assert process.returncode == 0, process.stdout + process.stderr
    assert results is not None, process.stdout + process.stderr
    points = points_by_test(results)
    for name, value in expected.items():
        assert points[name] == value, (name, points, process.stdout)
    failing = "\n".join(t["message"] for t in results["tests"] if t["status"] != "passed")
    assert text in failing, process.stdout
    if case == "endless_training":       # stopped at the limit, not long after it
        assert 'it was here:\nFile "train.py", line' in failing, failing
        # (15 s of CPU time: on a busy machine longer on the clock, never past the cap;
        # tests/test_cpu_time_limits.py checks that it stops at the CPU limit)
        assert results["questions"]["q2"]["seconds"] < 15 * LIMITS.wall_cap_factor + 10


PRINTS_100_MB = {"train.py": "_train_perceptron = train_perceptron\n"
                             "def train_perceptron(model, dataset):\n"
                             "    for _ in range(100):\n"
                             "        print('x' * 1_000_000)\n"
                             "    _train_perceptron(model, dataset)"}


def test_huge_output_is_capped_and_costs_nothing(tmp_path):
    student = make_submission(tmp_path / "student", PRINTS_100_MB)
    process, results = run_autograder("-q", "q1", "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"))
    assert results["questions"]["q1"]["points"] == 5, process.stdout[-3000:]
    assert len(process.stdout) < 1_000_000
    # train_perceptron runs five times in q1 (four update checks, one training run).
    assert "your code printed 500.0 MB; only the beginning was shown" in process.stdout
    assert results["questions"]["q1"]["output_bytes"] >= 100_000_000
    muted, _ = run_autograder("-q", "q1", "--student-dir", str(student), "--no-graphics",
                              "--mute")
    assert "xxxxxxxxxx" not in muted.stdout


def test_writing_into_data_costs_the_question_and_is_undone(tmp_path):
    project = copy_project(tmp_path / "project")
    digest = hashlib.sha256((project / "data" / "mnist.npz").read_bytes()).hexdigest()
    student = make_submission(tmp_path / "student", {"train.py": (
        "_train_perceptron = train_perceptron\n"
        "def train_perceptron(model, dataset):\n"
        "    import backend, pathlib\n"
        "    target = pathlib.Path(backend.__file__).parent / 'data' / 'mnist.npz'\n"
        "    target.write_bytes(b'not MNIST any more')\n"
        "    _train_perceptron(model, dataset)")})
    # Unconfined: the staff files can be written and must be restored (inside
    # bubblewrap they are read-only: test_bwrap.py).
    process, results = run_autograder("-q", "q1,q6", "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"),
                                      "--isolation", "none", project=project)
    assert results["questions"]["q1"]["points"] == 0
    assert results["questions"]["q6"]["points"] == 2
    assert "your code modified data/mnist.npz" in messages(results, "q1")
    assert hashlib.sha256((project / "data" / "mnist.npz").read_bytes()).hexdigest() == digest


def test_rewriting_the_graders_own_files_costs_the_question_and_is_undone(tmp_path):
    project = copy_project(tmp_path / "project")
    targets = ["data/README.md", "data/build.py", "backend.py", "grader/assignments/course/table.py",
               "grader/assignments/course/questions/perceptron.py"]
    before = {name: (project / name).read_bytes() for name in targets}
    student = make_submission(tmp_path / "student", {"train.py": (
        "_train_perceptron = train_perceptron\n"
        "def train_perceptron(model, dataset):\n"
        "    import backend, pathlib\n"
        "    root = pathlib.Path(backend.__file__).parent\n"
        f"    for name in {targets!r}:\n"
        "        (root / name).write_text('')\n"
        "    questions = root / 'grader' / 'assignments' / 'course' / 'questions'\n"
        "    (questions / 'sneaky.py').write_text('x = 1')\n"
        "    _train_perceptron(model, dataset)")})
    # -j 2: q6 runs beside q1 and must not see what q1's code wrote.
    process, results = run_autograder("-q", "q1,q6", "--student-dir", str(student),
                                      "--no-graphics", "-j", "2", "--isolation", "none",
                                      "--json", str(tmp_path / "r.json"), project=project)
    assert process.returncode == 0, process.stdout + process.stderr
    assert results["questions"]["q1"]["points"] == 0
    assert results["questions"]["q6"]["points"] == 2     # graded with intact files
    text = messages(results, "q1")
    for name in targets + ["grader/assignments/course/questions/sneaky.py"]:
        assert name in text, (name, text)
    assert {name: (project / name).read_bytes() for name in targets} == before
    assert not (project / "grader" / "assignments" / "course" / "questions" / "sneaky.py").exists()
    # Nothing is thrown away: what was written is kept aside for a person to look at.
    [aside] = (project / ".restored").iterdir()
    sneaky = aside / "grader" / "assignments" / "course" / "questions" / "sneaky.py"
    assert sneaky.read_text() == "x = 1"
    assert (aside / "backend.py").read_text() == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_dataloader_workers_die_with_a_stopped_question(tmp_path):
    student = make_submission(tmp_path / "student", {"train.py": (
        "def train_regression(model, dataset):\n"
        "    while True:\n"
        "        for batch in DataLoader(dataset, batch_size=10, num_workers=2):\n"
        "            pass")})
    # Unconfined (bubblewrap would end the workers with its process namespace anyway,
    # and would run them in a working copy, where processes_in does not look).
    process, results = run_autograder("-q", "q2", "--student-dir", str(student),
                                      "--no-graphics", "--time-limit-scale", "0.05",
                                      "--isolation", "none", "--json", str(tmp_path / "r.json"))
    assert "did not finish within the time limit" in messages(results, "q2")
    time.sleep(0.5)
    assert processes_in(student.resolve()) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_stops_grading_and_the_sandbox(tmp_path):
    student = make_submission(tmp_path / "student", CASES["endless_training"][0])
    grader = subprocess.Popen([sys.executable, str(ROOT / "autograder.py"), "-q", "q2",
                               "--student-dir", str(student), "--no-graphics",
                               "--isolation", "none"],   # its sandbox works in student/
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not processes_in(student.resolve()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_in(student.resolve()), "no sandbox was seen running"
    time.sleep(3)                                  # inside train_regression by now
    grader.send_signal(signal.SIGINT)
    _, stderr = grader.communicate(timeout=30)
    assert grader.returncode == 130, stderr
    assert "Interrupted: grading stopped" in stderr
    time.sleep(0.5)
    assert processes_in(student.resolve()) == []
