"""The assignment "depth-width" (grader/assignments/depth_width/): the staff solution
earns full marks, the skeleton 0, and each broken limit or wrong answer costs exactly
its points with a message naming the rule."""

from __future__ import annotations

import zipfile
from types import SimpleNamespace

import pytest

from grader.assignments.depth_width.questions import cnn_network
from grader.instructor.release import student_zip
from helpers import ROOT, grade_json, messages, points_by_test, solution_with

REFERENCE = ROOT / "tests" / "reference_depth_width"
SKELETON = ROOT / "grader" / "assignments" / "depth_width" / "skeleton"
FILES = ("networks.py", "answers.py")
WRITTEN = "q1d,q1e,q3b,q3c,q3d,q3e"


def test_the_staff_solution_earns_full_marks(tmp_path):
    process, results = grade_json(tmp_path, REFERENCE)
    assert results["course"] == "depth-width"
    assert results["total"] == results["max"] + 6 == 70, process.stdout
    assert "q3g-sweep" not in results["questions"]        # optional: not run unless asked


def test_the_written_answers_and_the_skeleton(tmp_path):
    _, results = grade_json(tmp_path, REFERENCE, "-q", WRITTEN)
    assert results["total"] == 26
    process, skeleton = grade_json(tmp_path, SKELETON)
    assert skeleton["total"] == 0
    for test in skeleton["tests"]:
        assert test["message"].strip(), test["name"]
    assert "answers.or_network() returned None: it is still the skeleton" in process.stdout
    assert "networks.model_100() returned None: it is still the skeleton" in process.stdout


WRONG_POOLING = """
def average_pool(matrix):
    return matrix[::2, ::2]          # a sample, not an average


def max_pool(matrix):
    rows, columns = matrix.shape
    return matrix.reshape(rows // 2, 2, columns // 2, 2).max(axis=(1, 3)).T
"""


def test_wrong_pooling_answers_cost_their_points(tmp_path):
    student = solution_with(REFERENCE, tmp_path / "s", {"answers.py": WRONG_POOLING})
    _, results = grade_json(tmp_path, student, "-q", WRITTEN)
    points = {test["question"]: test["points"] for test in results["tests"]}
    assert points == {"q1d": 7, "q1e": 8, "q3b": 2, "q3c": 3, "q3d": 0, "q3e": 0}
    assert "expected [[1.0, 0.5], [0.5, 0.25]] (2x2 windows, stride 2)" in messages(results, "q3d")


ONE_UNIT_OVER = """
def model_100():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 60), nn.ReLU(), nn.Linear(60, 41),
                         nn.ReLU(), nn.Linear(41, 10))
"""


BLOCK = """
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(784, 50)

    def forward(self, x):
        return torch.relu(self.linear(x))
"""


@pytest.mark.parametrize("layers, said", [
    ("nn.Flatten(), nn.Unflatten(1, (1, 784)), nn.Conv1d(1, 1, 1), nn.Flatten(), "
     "nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 10)", "layer 2 (Conv1d)"),
    ("nn.Flatten(), nn.LayerNorm(784), nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 10)",
     "layer 1 (LayerNorm)"),
    ("nn.Flatten(), Block(), nn.Linear(50, 10)", "layer 1 (Block, a module of your own)"),
], ids=["Conv1d", "LayerNorm", "a module of one's own"])
def test_a_forbidden_layer_fails_the_limits_before_any_training(tmp_path, layers, said):
    code = f"{BLOCK}\n\ndef model_100():\n    return nn.Sequential({layers})\n"
    student = solution_with(REFERENCE, tmp_path / "s", {"networks.py": code})
    _, results = grade_json(tmp_path, student, "-q", "q2c")
    assert results["total"] == 0
    text = messages(results, "q2c")
    assert "only Flatten, Linear, ReLU, Softmax, Dropout layers are allowed" in text
    assert said in text and "not trained: the model breaks the problem's limits" in text


def test_one_unit_over_the_budget_is_named_with_the_count_and_the_limit(tmp_path):
    student = solution_with(REFERENCE, tmp_path / "s", {"networks.py": ONE_UNIT_OVER})
    _, results = grade_json(tmp_path, student, "-q", "q2c")
    assert points_by_test(results) == {
        "q2c: model_100: only Flatten, Linear, ReLU, Softmax, Dropout; at most 100 hidden "
        "units in at least 1 hidden layer(s)": 0,
        "q2c: model_100 trained by train_model: test accuracy": 0}
    text = messages(results, "q2c")
    assert "the model has 101 hidden units (60 + 41: the output sizes of every Linear but " \
           "the last), more than the 100 allowed" in text
    assert "Linear(784, 60), ReLU, Linear(60, 41), ReLU, Linear(41, 10)" in text


NO_BATCH_NORM = """
def cnn(dropout=0.25):
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Dropout(dropout), nn.Linear(8 * 13 * 13, 10))
"""
ONE_EPOCH_OF_64 = """
def train_model(model, train_data):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.002)
    for images, labels in DataLoader(train_data, batch_size=64, shuffle=True):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
"""


def test_a_cnn_without_batch_norm_loses_the_question(tmp_path):
    student = solution_with(REFERENCE, tmp_path / "s", {"networks.py": NO_BATCH_NORM})
    _, results = grade_json(tmp_path, student, "-q", "q3g")
    assert results["total"] == 0
    assert "the model has no BatchNorm2d layer; at least one is required" \
        in messages(results, "q3g")


def test_the_epochs_and_the_batch_size_are_counted_from_the_training(tmp_path):
    student = solution_with(REFERENCE, tmp_path / "s", {"networks.py": ONE_EPOCH_OF_64})
    _, results = grade_json(tmp_path, student, "-q", "q3g")
    points = points_by_test(results)
    assert points["q3g: train_model: exactly 10 epochs of batch size 32"] == 0
    assert points["q3g: cnn: allowed layers, under 1,000,000 parameters, a Dropout and a " \
                  "BatchNorm2d"] == 6
    assert "train_model trained on batches of 64 images; the problem asks for batches of 32" \
        in messages(results, "q3g")


def training_verdict(sizes: list[int]):
    """The training check's verdict for a training that used batches of ``sizes``."""
    question = next(q for q in __import__("grader.assignments").assignments.get(
        "depth-width").questions if q.id == "q3g")
    check = next(c for c in question.checks if c.key == "training")
    step = SimpleNamespace(ok=True, values={"batch_sizes": sizes, "training_items": 60000},
                           seconds=1.0)
    from grader.core.wiring import SettingsView, VerdictInput
    outcome = SimpleNamespace(step=lambda key: step if key == "accuracy" else None)
    return cnn_network.judge_training(VerdictInput(
        question, check, outcome, {}, {}, None,
        SettingsView(question.thresholds, ("epochs", "batch_size"), "test")))


def test_nine_ten_and_eleven_epochs_are_told_apart():
    assert training_verdict([32] * 1875 * 10).points == 4
    nine = training_verdict([32] * 1875 * 9)
    assert nine.points == 0 and "trained for 9 epochs" in nine.message
    assert training_verdict([32] * 1875 * 11).points == 0
    assert "batches of 64" in training_verdict([64] * 9375).message


def test_the_release_ships_both_skeletons_the_data_module_and_no_solution(tmp_path):
    output = student_zip.build_release(tmp_path / "dw.zip", course="depth-width")
    with zipfile.ZipFile(output) as archive:
        names = set(archive.namelist())
        readme = archive.read("depth-width/README.md").decode()
        for name in FILES:
            assert archive.read(f"depth-width/{name}") == (SKELETON / name).read_bytes()
    assert {"depth-width/depth_width_data.py", "depth-width/data/mnist.npz"} <= names
    assert not any("reference" in name for name in names)
    assert "| q2e | 6 (extra credit) |" in readme and "0/64" in readme
