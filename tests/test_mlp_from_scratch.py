"""The assignment "mlp-from-scratch" (grader/assignments/mlp_from_scratch/): the staff
solution earns full marks with margin, the skeleton 0, and each classic mistake costs
exactly its points with a message naming it."""

from __future__ import annotations

import zipfile

import pytest

from grader.instructor.release import student_zip
from helpers import ROOT, grade_json, messages, points_by_test, solution_with

REFERENCE = ROOT / "tests" / "reference_mlp_from_scratch"
SKELETON = ROOT / "grader" / "assignments" / "mlp_from_scratch" / "skeleton"
FILES = ("mlp.py", "cnn.py")


def test_the_staff_solution_earns_full_marks_with_margin(tmp_path):
    process, results = grade_json(tmp_path, REFERENCE)
    assert results["course"] == "mlp-from-scratch"
    assert "graded as assignment mlp-from-scratch" in process.stdout
    assert results["total"] - results["extra_credit"] == results["max"] == 65, process.stdout
    metrics = {(t["question"], t["check"]): t["metric"] for t in results["tests"]}
    assert metrics[("q3", "accuracy")] >= 0.92 and metrics[("q5", "accuracy")] >= 0.985
    assert results["extra_credit"] >= 2          # extra credit, said as such
    assert "(including" in process.stdout and "extra credit" in process.stdout


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_staff_mlp_clears_92_percent_on_every_seed(tmp_path, seed):
    _, results = grade_json(tmp_path, REFERENCE, "-q", "q3", "--seed", str(seed))
    accuracy = next(t["metric"] for t in results["tests"] if t["check"] == "accuracy")
    assert accuracy >= 0.92


def test_the_skeleton_earns_zero_with_a_reason_per_question(tmp_path):
    _, results = grade_json(tmp_path, SKELETON)
    assert results["total"] == 0
    for question in ("q1", "q2", "q3", "q4", "q5"):
        assert messages(results, question).strip(), question
    assert "still the skeleton" in messages(results, "q3")
    assert "train_cnn is still the skeleton" in messages(results, "q5")


# Gradients: W2_grad kept transposed, (64, 10), from reset to update.
TRANSPOSED = ("        d1 = (d2 @ self.W2) * self.f1 * (1 - self.f1)       # dL/da1, (B, 64)\n"
              "        self.W2_grad += d2.T @ self.f1",
              "        d1 = (d2 @ self.W2) * self.f1 * (1 - self.f1)       # dL/da1, (B, 64)\n"
              "        self.W2_grad += self.f1.T @ d2")
TRANSPOSED_RESET = """
_reset = MLP.reset_grad
def _reset_transposed(self):
    _reset(self)
    self.W2_grad = np.zeros((64, 10))
MLP.reset_grad = _reset_transposed
"""
AVERAGED = """
_summed = MLP.update_grad
def _averaged(self, y):
    before = {name: getattr(self, name + "_grad").copy() for name in ("W1", "b1", "W2", "b2")}
    _summed(self, y)
    n = len(np.atleast_2d(y))
    for name, value in before.items():
        setattr(self, name + "_grad", value + (getattr(self, name + "_grad") - value) / n)
MLP.update_grad = _averaged
"""
NO_SIGMOID_DERIVATIVE = (
    "        d1 = (d2 @ self.W2) * self.f1 * (1 - self.f1)       # dL/da1, (B, 64)",
    "        d1 = d2 @ self.W2")
NOT_RESET = """
def _never_reset(self):
    if not hasattr(self, "W1_grad"):
        self.W1_grad, self.b1_grad = np.zeros((64, 784)), np.zeros(64)
        self.W2_grad, self.b2_grad = np.zeros((10, 64)), np.zeros(10)
MLP.reset_grad = _never_reset
"""
GRADIENTS, ACCUMULATE = "q2: update_grad: the cross-entropy's gradients", \
    "q2: update_grad adds up, reset_grad zeroes"


@pytest.mark.parametrize("appended, replaced, lost, said", [
    (TRANSPOSED_RESET, TRANSPOSED, GRADIENTS, "W2_grad has shape (64, 10)"),
    (AVERAGED, None, GRADIENTS, "averaged over 8 examples"),
    ("", NO_SIGMOID_DERIVATIVE, GRADIENTS, "without the sigmoid's derivative"),
    (NOT_RESET, None, ACCUMULATE, "after reset_grad, W1_grad is not all zeros"),
], ids=["transposed", "averaged", "no sigmoid derivative", "not reset"])
def test_a_back_propagation_mistake_costs_its_check(tmp_path, appended, replaced, lost, said):
    student = solution_with(REFERENCE, tmp_path / "s", {"mlp.py": appended},
                         {"mlp.py": replaced} if replaced else None)
    _, results = grade_json(tmp_path, student, "-q", "q2")
    points = points_by_test(results)
    assert points[lost] == 0 and sum(points.values()) == 15 - (8 if lost == GRADIENTS else 2), \
        points
    assert said in messages(results, "q2")


def test_a_torch_import_in_mlp_py_fails_its_questions_when_imports_are_enforced(tmp_path):
    student = solution_with(REFERENCE, tmp_path / "s", {"mlp.py": "import torch\n"})
    process, results = grade_json(tmp_path, student, "-q", "q1,q4")
    assert results["total"] == 10
    assert "*** Warning: mlp.py: `import torch` is not allowed: mlp.py may import only " \
        "numpy, matplotlib, time and mlp_data; write it with those" in process.stdout
    _, enforced = grade_json(tmp_path, student, "-q", "q1,q4", "--enforce-imports")
    assert enforced["total"] == 0
    assert "--enforce-imports" in messages(enforced, "q1")


TRAINS_ON_THE_TEST_SET = """
def train_mlp(model, dataset):
    for start in range(0, 10000, 256):
        model.reset_grad()
        model.forward(dataset.test_images[start:start + 256])
        model.update_grad(dataset.test_labels[start:start + 256])
        model.update_params(0.001)
"""
NEVER_ENDS = """
def train_mlp(model, dataset):
    while True:
        for images, labels in dataset.batches(256):
            model.reset_grad()
            model.forward(images)
            model.update_grad(labels)
            model.update_params(0.001)
"""


def test_training_on_the_test_set_earns_nothing_and_says_why(tmp_path):
    student = solution_with(REFERENCE, tmp_path / "s", {"mlp.py": TRAINS_ON_THE_TEST_SET})
    _, results = grade_json(tmp_path, student, "-q", "q3")
    assert results["total"] == 0
    assert "dataset.test_labels is kept by the autograder" in messages(results, "q3")
    assert "validation set" in messages(results, "q3")


def test_a_training_loop_that_never_ends_is_stopped_at_the_limit(tmp_path):
    student = solution_with(REFERENCE, tmp_path / "s", {"mlp.py": NEVER_ENDS})
    _, results = grade_json(tmp_path, student, "-q", "q3", "--time-limit-scale", "0.02")
    assert results["total"] == 0
    assert "did not finish within the time limit of 18 s" in messages(results, "q3")


def test_the_release_ships_both_skeletons_the_data_and_no_solution(tmp_path):
    output = student_zip.build_release(tmp_path / "mlp.zip", course="mlp-from-scratch")
    with zipfile.ZipFile(output) as archive:
        names = set(archive.namelist())
        readme = archive.read("mlp-from-scratch/README.md").decode()
        for name in FILES:
            assert archive.read(f"mlp-from-scratch/{name}") == (SKELETON / name).read_bytes()
    assert {"mlp-from-scratch/mlp_data.py", "mlp-from-scratch/data/mnist.npz",
            "mlp-from-scratch/autograder.py"} <= names
    assert not any("reference" in name for name in names)
    assert "| q3 MLP: accuracy | 20 (+10 extra credit) |" in readme
    assert "batching the forward" in readme
