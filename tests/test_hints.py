"""Advice for the mistakes students of this course actually make: each case is a
small broken submission, graded by the real autograder, whose failure message must
carry the hint (and whose other questions keep their usual messages)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import hints
from helpers import make_submission, messages, run_autograder

IN_PLACE_UPDATE = """
def train_perceptron(model, dataset):
    for batch in DataLoader(dataset, batch_size=1):
        x, y = batch['x'], batch['label']
        if model.get_prediction(x) != y.item():
            model.w += y.item() * x
"""
SCORE_AS_PREDICTION = """
PerceptronModel.get_prediction = lambda self, x: self(x)
"""
CUDA_PERCEPTRON = """
_Perceptron = PerceptronModel
class PerceptronModel(_Perceptron):
    def forward(self, x):
        return super().forward(x.cuda())
"""
MISMATCHED_LAYERS = """
class RegressionModel(Module):
    def __init__(self):
        super().__init__()
        self.hidden = Linear(1, 64)
        self.output = Linear(32, 1)

    def forward(self, x):
        return self.output(relu(self.hidden(x)))
"""
RELU_LAST = """
class RegressionModel(Module):
    def __init__(self):
        super().__init__()
        self.hidden = Linear(1, 64)
        self.output = Linear(64, 1)

    def forward(self, x):
        return relu(self.output(relu(self.hidden(x))))
"""
HUGE_LEARNING_RATE = """
def train_regression(model, dataset):
    optimizer = optim.SGD(model.parameters(), lr=1e8)
    for batch in DataLoader(dataset, batch_size=20):
        optimizer.zero_grad()
        loss = regression_loss(model(batch['x']), batch['label'])
        loss.backward()
        optimizer.step()
"""
DETACHED_LOSS = """
def regression_loss(y_pred, y):
    return tensor(mse_loss(y_pred, y).item())
"""
UNREDUCED_LOSS = """
def regression_loss(y_pred, y):
    return (y_pred - y) ** 2
"""
ONE_DIGIT = """
_Digits = DigitClassificationModel
class DigitClassificationModel(_Digits):
    def forward(self, x):
        scores = super().forward(x) * 0                       # (B, 10)
        return scores + tensor([0., 0., 0., 1., 0., 0., 0., 0., 0., 0.])
"""
NO_TRAINING = "def train_digitclassifier(model, dataset):\n    pass\n"
WORDS_FIRST = """
def train_languageid(model, dataset):
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    for batch in DataLoader(dataset, batch_size=32, shuffle=True):
        optimizer.zero_grad()
        loss = languageid_loss(model(batch['x']), batch['label'])
        loss.backward()
        optimizer.step()
"""
STOPS_EARLY = """
def train_digitclassifier(model, dataset):
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    for step, batch in enumerate(DataLoader(dataset, batch_size=50, shuffle=True)):
        optimizer.zero_grad()
        loss = digitclassifier_loss(model(batch['x']), batch['label'])
        loss.backward()
        optimizer.step()
        if step == 10:
            break
    dataset.get_validation_accuracy()
"""
WAITS_FOREVER = """
def train_digitclassifier(model, dataset):
    optimizer = optim.SGD(model.parameters(), lr=1e-4)
    batches = iter(DataLoader(dataset, batch_size=10, shuffle=True))
    while dataset.get_validation_accuracy() < 0.999:
        batch = next(batches)
        optimizer.zero_grad()
        digitclassifier_loss(model(batch['x']), batch['label']).backward()
        optimizer.step()
"""
TRAIN_IMPORTS = "from torch import optim, tensor\nfrom losses import *\n"
LOSS_IMPORTS = "from torch import tensor\n"

# (files, questions, extra options, {question: [fragments its messages must hold]})
CASES = {
    "in-place update; layer sizes": (
        {"train.py": IN_PLACE_UPDATE, "models.py": MISMATCHED_LAYERS}, "q1,q2", [],
        {"q1": ["Hint: changing a Parameter in place (w += ...) must happen inside "
                "`with no_grad():`"],
         "q2": ["Hint: self.output is Linear(32, 1) but received 64 features per example"]}),
    "prediction is the score; ReLU last": (
        {"models.py": SCORE_AS_PREDICTION + RELU_LAST,
         "train.py": "def train_perceptron(model, dataset):\n    pass\n"}, "q1,q2", [],
        {"q1": ["Hint: get_prediction must return the number 1 or -1, not a tensor "
                "holding the score"],
         "q2": ["Hint: the model never outputs a negative number", "ReLU after the last layer"]}),
    "CUDA on a CPU machine; NaN loss": (
        {"models.py": CUDA_PERCEPTRON, "train.py": TRAIN_IMPORTS + HUGE_LEARNING_RATE},
        "q1,q2", [],
        {"q1": ["Hint: the autograder runs on the CPU"],
         "q2": ["Hint: the loss became NaN or infinite during training (first at backward() "
                "call", "learning rate is probably too high"]}),
    "detached loss; one digit for everything": (
        {"losses.py": LOSS_IMPORTS + DETACHED_LOSS, "models.py": ONE_DIGIT,
         "train.py": NO_TRAINING}, "q2,q3", [],
        {"q2": ["Hint: the loss is not connected to the model's weights"],
         "q3": ["Hint: the model predicts 3 for every input"]}),
    "unreduced loss; words first": (
        {"losses.py": UNREDUCED_LOSS, "train.py": TRAIN_IMPORTS + WORDS_FIRST}, "q2,q4", [],
        {"q2": ["Hint: backward() needs a single number"],
         "q4": ["Hint: the model was given a batch of shape (32, 10, 47), words first",
                "movedim(batch['x'], 0, 1), of shape (10, 32, 47)"]}),
    "validation asked for, too early": (
        {"train.py": TRAIN_IMPORTS + STOPS_EARLY}, "q3", [],
        {"q3": ["Hint: the last validation accuracy your code asked for was",
                "below the 97% required"]}),
    "waits for an accuracy it never reaches": (
        {"train.py": TRAIN_IMPORTS + WAITS_FOREVER}, "q3", ["--time-limit-scale", "0.03"],
        {"q3": ["did not finish within the time limit",
                "Hint: your training loop was still running at the time limit, and the last "
                "validation accuracy it asked for was"]}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_failure_carries_the_hint(tmp_path, case):
    files, questions, options, expected = CASES[case]
    student = make_submission(tmp_path / "student", files)
    process, results = run_autograder("-q", questions, "--student-dir", str(student),
                                      "--no-graphics", "--mute", *options,
                                      "--json", str(tmp_path / "r.json"))
    assert results is not None, process.stdout + process.stderr
    for question, fragments in expected.items():
        text = messages(results, question)
        for fragment in fragments:
            assert fragment in text, f"{question}: {fragment!r} not in\n{text}"


def test_honest_work_gets_no_hints(tmp_path):
    student = make_submission(tmp_path / "student")
    process, results = run_autograder("-q", "q1,q2,q6", "--student-dir", str(student),
                                      "--no-graphics", "--mute",
                                      "--json", str(tmp_path / "r.json"))
    assert results["total"] == results["max"], process.stdout
    assert "Hint:" not in process.stdout


def test_validation_hint_says_what_to_aim_for():
    stopped_high = hints.validation_hint({"validation": 0.9702}, 0.97, 0.968, "test digits")
    assert stopped_high == ("your training stopped when validation accuracy was 97.02%: the "
                            "test digits are different ones, so aim higher (97.5%)")
    assert hints.validation_hint({"validation": 0.9702}, 0.97, 0.971, "test digits") == ""
    assert hints.validation_hint({}, 0.97, 0.5, "test digits") == ""
    assert hints.validation_hint({"validation": 0.99}, 0.8, 0.7, None) == ""  # same digits
    assert "below the 81% required" in hints.validation_hint({"validation": 0.75}, 0.81, 0.7,
                                                             "test words")


def test_constant_and_never_negative_hints_need_the_pattern():
    assert hints.constant_prediction_hint(np.array([2, 2, 2])).startswith(
        "the model predicts 2 for every input")
    assert hints.constant_prediction_hint(np.array([2, 2, 1])) == ""
    names = np.array(["English", "Spanish"])
    assert "predicts Spanish" in hints.constant_prediction_hint(np.array([1, 1]), names)
    x = np.linspace(-6, 6, 50)
    assert hints.never_negative_hint(np.abs(np.sin(x)), np.sin(x))
    assert hints.never_negative_hint(np.sin(x) * 0.5, np.sin(x)) == ""
