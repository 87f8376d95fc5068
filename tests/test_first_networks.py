"""The assignment "first networks" (grader/assignments/first_networks/): the staff
solution earns 10/10, the skeleton 0, and each classic mistake costs exactly its
points with a message naming it."""

from __future__ import annotations

import zipfile

import pytest

from grader.instructor.release import student_zip
from helpers import ROOT, grade_json, messages, points_by_test, solution_with

REFERENCE = ROOT / "tests" / "reference_first_networks"
SKELETON = ROOT / "grader" / "assignments" / "first_networks" / "skeleton"
FILES = ("quadrants.py", "mnist_linear.py")


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_staff_solution_earns_full_marks_on_every_seed(tmp_path, seed):
    process, results = grade_json(tmp_path, REFERENCE, "--seed", str(seed))
    assert results["course"] == "first-networks"
    assert results["total"] == results["max"] == 10, process.stdout
    if seed == 0:
        assert "graded as assignment first-networks" in process.stdout
        assert "[ 1][ 500] ->" in process.stdout          # its periodic evaluation, shown


def test_the_skeleton_earns_zero_with_a_reason_per_check(tmp_path):
    process, results = grade_json(tmp_path, SKELETON)
    assert results["total"] == 0
    for test in results["tests"]:
        assert test["message"].strip(), test["name"]
    text = process.stdout
    assert "quadrants.quadrant_labels returned None: it is still the skeleton" in text
    assert "train_mnist is still the skeleton" in text


AXIS_ON_THE_WRONG_SIDE = """
def quadrant_labels(points):
    x, y = points[:, 0], points[:, 1]
    return 2 * (x > 0).long() + (y > 0).long()
"""

TEST_STATISTICS = """
def standardize(train_images, test_images):
    standardised = (train_images - train_images.mean()) / train_images.std()
    return standardised, (test_images - test_images.mean()) / test_images.std()
"""

TRAINING_ACCURACY_AS_TEST = """
def train_mnist(model, train_data, test_data, eval_every=500):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    loader = DataLoader(train_data, batch_size=64, shuffle=True)
    history = []
    for epoch in range(2):
        for batch, (x, y) in enumerate(loader):
            if batch % eval_every == 0:
                # the mistake: both columns measured on training batches
                history.append((epoch, batch, evaluate(model, train_data),
                                evaluate(model, train_data)))
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    return history
"""


def test_the_axis_on_the_wrong_side_costs_the_labels_point(tmp_path):
    student = solution_with(REFERENCE, tmp_path / "s", {"quadrants.py": AXIS_ON_THE_WRONG_SIDE})
    _, results = grade_json(tmp_path, student, "-q", "q1")
    assert points_by_test(results) == {
        "q1: quadrant_labels: the rule, axes included": 0,
        "q1: quadrant_dataset: labelled points fixed by the seed": 1}
    assert "the axis is on the wrong side" in messages(results, "q1")
    assert "x = 0 counts as x >= 0" in messages(results, "q1")


def test_standardising_with_the_test_statistics_costs_question_3(tmp_path):
    student = solution_with(REFERENCE, tmp_path / "s", {"mnist_linear.py": TEST_STATISTICS})
    _, results = grade_json(tmp_path, student, "-q", "q3")
    assert results["total"] == 0
    assert "standardised with the test set's own statistics" in messages(results, "q3")


# Both sets evaluated, but the columns swapped: the testing column holds the training
# batches' accuracy.
COLUMNS_SWAPPED = TRAINING_ACCURACY_AS_TEST.replace(
    "evaluate(model, train_data),\n                                evaluate(model, train_data)",
    "evaluate(model, test_data),\n                                evaluate(model, train_data)")


@pytest.mark.parametrize("mistake, said", [
    (TRAINING_ACCURACY_AS_TEST, "were not measured on test_data: the model never saw a test "
                                "image while train_mnist ran"),
    (COLUMNS_SWAPPED, "which no evaluation of the model on test_data gave"),
], ids=["never on the test set", "columns swapped"])
def test_training_accuracy_reported_as_testing_accuracy_costs_the_history_point(
        tmp_path, mistake, said):
    assert mistake.count("test_data") >= 1
    student = solution_with(REFERENCE, tmp_path / "s", {"mnist_linear.py": mistake})
    _, results = grade_json(tmp_path, student, "-q", "q4")
    assert points_by_test(results) == {
        "q4: train_mnist: accuracy on test digits": 2,
        "q4: train_mnist: periodic evaluation on the test set": 0,
        "q4: misclassified: the rows the model gets wrong": 1}
    assert said in messages(results, "q4")


def test_the_release_ships_the_skeletons_the_data_module_and_no_solution(tmp_path):
    output = student_zip.build_release(tmp_path / "first.zip", course="first-networks")
    with zipfile.ZipFile(output) as archive:
        names = set(archive.namelist())
        readme = archive.read("first-networks/README.md").decode()
        for name in FILES:
            assert archive.read(f"first-networks/{name}") == (SKELETON / name).read_bytes()
    assert {"first-networks/first_networks_data.py", "first-networks/data/mnist.npz",
            "first-networks/autograder.py"} <= names
    for absent in ("data/lang_id.npz", "models.py", "backend.py", "chargpt.py"):
        assert f"first-networks/{absent}" not in names
    assert "| q4 MNIST network | 4 |" in readme and "0/10" in readme
