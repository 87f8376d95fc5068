"""Real solutions written for the course earn what the writeup says they earn: the
criterion the writeup states, and every form of a right answer the course accepted
(steps 5, 5c, 5d)."""

import pytest

from helpers import make_submission, messages, points_by_test, run_autograder

Q1_UPDATE = "q1: train_perceptron: update rule"

# A perceptron started at zero weights, as real solutions do; the training loop
# below updates with `model.w += <UPDATE>` on each mistake until a pass makes none.
ZERO_START = """
_Started = PerceptronModel
class PerceptronModel(_Started):
    def __init__(self, dimensions):
        super().__init__(dimensions)
        self.w = Parameter(torch.zeros(1, dimensions))
"""
PERCEPTRON_LOOP = """
def train_perceptron(model, dataset):
    with no_grad():
        loader = DataLoader(dataset, batch_size=1, shuffle=True)
        for _ in range({passes}):
            mistakes = 0
            for batch in loader:
                x, y = batch["x"], batch["label"]
                if {condition}:
                    model.w += {update}
                    mistakes += 1
            if mistakes == 0:
                break
"""


def _perceptron(update, condition="model.get_prediction(x) != y.item()", passes=1000):
    return {"models.py": ZERO_START,
            "train.py": PERCEPTRON_LOOP.format(update=update, condition=condition,
                                               passes=passes)}


@pytest.mark.parametrize("update", ["0.01 * y.item() * x.reshape(model.w.shape)",
                                    "y.item() * x.reshape(model.w.shape)"])
def test_perceptron_steps_of_any_positive_size_earn_full_marks(tmp_path, update):
    student = make_submission(tmp_path / "student", _perceptron(update))
    process, results = run_autograder("-q", "q1", "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"))
    assert results["questions"]["q1"]["points"] == 5, process.stdout


@pytest.mark.parametrize("case, update, condition, passes, found", [
    ("adds x whatever the label", "x.reshape(model.w.shape)",
     "model.get_prediction(x) != y.item()", 30, "the weights moved by"),
    ("updates on correct points", "y.item() * x.reshape(model.w.shape)", "True", 3,
     "which those weights classify correctly, the weights became"),
    ("never updates", "0 * x.reshape(model.w.shape)", "model.get_prediction(x) != y.item()",
     30, "the weights did not change"),
])
def test_wrong_update_rules_fail_the_update_check(tmp_path, case, update, condition, passes,
                                                  found):
    student = make_submission(tmp_path / "student", _perceptron(update, condition, passes))
    process, results = run_autograder("-q", "q1", "--student-dir", str(student),
                                      "--no-graphics", "--time-limit-scale", "0.3",
                                      "--json", str(tmp_path / "r.json"))
    assert points_by_test(results)[Q1_UPDATE] == 0, (case, process.stdout)
    message = next(t["message"] for t in results["tests"] if t["name"] == Q1_UPDATE)
    assert found in message and "(the check sets them, whatever __init__ starts with)" \
        in message, (case, message)


# --------------------------------------------------------------- q3/q4 losses (5c)

ARGMAX_LOSSES = """
def digitclassifier_loss(y_pred, y):
    return cross_entropy(y_pred, y.argmax(dim=1))

def languageid_loss(y_pred, y):
    return cross_entropy(y_pred, y.argmax(dim=1))
"""
IGNORES_LABELS = """
def digitclassifier_loss(y_pred, y):
    return (y_pred ** 2).mean()

def languageid_loss(y_pred, y):
    return (y_pred ** 2).mean()
"""
NO_TRAINING = """
def train_digitclassifier(model, dataset):
    pass

def train_languageid(model, dataset):
    pass
"""
SANITY = {"q3": "q3: DigitClassificationModel and loss: shapes and gradients",
          "q4": "q4: LanguageIDModel and loss: shapes and gradients"}


@pytest.mark.parametrize("losses, points", [(ARGMAX_LOSSES, 2), (IGNORES_LABELS, 0)])
def test_a_loss_depends_on_the_labels_by_value(tmp_path, losses, points):
    # Training is skipped: only the sanity checks matter here, and they are quick.
    student = make_submission(tmp_path / "student", {"losses.py": losses,
                                                     "train.py": NO_TRAINING})
    process, results = run_autograder("-q", "q3,q4", "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"))
    earned = points_by_test(results)
    assert [earned[SANITY["q3"]], earned[SANITY["q4"]]] == [points, points], process.stdout
    if not points:
        for question in ("q3", "q4"):
            assert "the loss does not depend on the labels y" in messages(results, question)


# ------------------------------------------------------------ q6 extra dimension (5c)

NO_INDEX = """
_Correct = AttentionBlock
class AttentionBlock(_Correct):
    def forward(self, input):
        B, T, C = input.size()
        q, k, v = self.q_layer(input), self.k_layer(input), self.v_layer(input)
        scores = matmul(q, movedim(k, 1, 2)) / self.layer_size ** {power}
        scores = scores.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))  # no [0]
        return matmul(softmax(scores, dim=-1), v)                                 # (1, B, T, C)
Attention = AttentionBlock
"""


@pytest.mark.parametrize("power, points", [(0.5, 2), (1.0, 0)])
def test_attention_with_an_extra_leading_dimension(tmp_path, power, points):
    student = make_submission(tmp_path / "student", {"models.py": NO_INDEX.format(power=power)})
    process, results = run_autograder("-q", "q6", "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"))
    assert results["questions"]["q6"]["points"] == points, process.stdout
    text = messages(results, "q6")
    if points:
        assert "note: forward returns shape (1, B, T, C) instead of (B, T, C)" in text
        assert "Transformer_Block needs (B, T, C)" in text
    else:
        assert "models.AttentionBlock.forward returned a tensor of shape (1, " in text
        assert "(the same shape as the input)" in text


# --------------------------------------------------------------------- q2 (step 5)

STOPS_AT_TRAINING_LOSS = """
class RegressionModel(Module):
    def __init__(self):
        super().__init__()
        self.hidden_1 = Linear(1, 64)
        self.hidden_2 = Linear(64, 64)
        self.output = Linear(64, 1)

    def forward(self, x):
        return self.output(relu(self.hidden_2(relu(self.hidden_1(x)))))


def train_regression(model, dataset):
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    loader = DataLoader(dataset, batch_size=20, shuffle=True)
    while True:
        total = 0.0
        for batch in loader:
            optimizer.zero_grad()
            loss = regression_loss(model(batch["x"]), batch["label"])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch["x"])
        if total / len(dataset) < 0.02:        # the writeup: stop on the training loss
            return
"""


def test_regression_that_stops_on_its_training_loss_passes(tmp_path):
    model, training = STOPS_AT_TRAINING_LOSS.split("\n\n\ndef train_regression")
    student = make_submission(tmp_path / "student", {
        "models.py": model, "train.py": "def train_regression" + training})
    process, results = run_autograder("-q", "q2", "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"))
    assert results["questions"]["q2"]["points"] == 5, process.stdout
    assert "on the dataset's 200 points (required: at most 0.02)" in messages(results, "q2")


def test_graded_training_equals_the_students_own_script():
    import contextlib
    import io

    from benchmarks.graded_vs_direct import main
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        main(["--questions", "q2", "--seeds", "3"])
    assert printed.getvalue().rstrip().endswith("yes"), printed.getvalue()


# ------------------------------------------------------------------- imports (step 5)

def test_import_warnings_once_at_the_start_and_variants_allowed(tmp_path):
    student = make_submission(tmp_path / "student", {"train.py": (
        "import numpy\nfrom losses import digitconvolution_Loss\n"
        "from models import AttentionBlock")})
    process, results = run_autograder("-q", "q1,q2", "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"))
    warning = "train.py: `import numpy` is not one of the skeleton's imports"
    assert process.stdout.count(warning) == 1, process.stdout
    assert process.stdout.index(warning) < process.stdout.index("Question q1")
    assert "digitconvolution_Loss" not in process.stdout
    # `from models import AttentionBlock` is not in train.py's skeleton: it warns.
    assert "train.py: `from models import AttentionBlock`" in process.stdout
    for question in ("q1", "q2"):
        assert warning in results["questions"][question]["warnings"]


# ------------------------------------------------------------------------ q5 (5b)

TWO_EPOCHS = """
def train_digitconvolution(model, dataset):
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        for batch in DataLoader(dataset, batch_size=10, shuffle=True):
            optimizer.zero_grad()
            digitconvolution_loss(model(batch["x"]), batch["label"]).backward()
            optimizer.step()
Train_DigitConvolution = train_digitconvolution
"""
NEVER_TRAINS = """
def train_digitconvolution(model, dataset):
    pass
Train_DigitConvolution = train_digitconvolution
"""
Q5_MODEL = "q5: train_digitconvolution: accuracy"


@pytest.mark.parametrize("training, points", [(TWO_EPOCHS, 2), (NEVER_TRAINS, 0)])
def test_convolutional_model_is_scored_on_its_training_digits(tmp_path, training, points):
    student = make_submission(tmp_path / "student", {"train.py": training})
    process, results = run_autograder("-q", "q5", "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"))
    assert points_by_test(results)[Q5_MODEL] == points, process.stdout
    text = messages(results, "q5")
    assert "on the 200 digits it trained on (required: 80%)" in text, text
    assert "for information (not scored): " in text and "on 500 digits it never saw" in text


HELD_OUT_RUN = '''
import dataclasses, json, sys
from pathlib import Path
from grader.judge.grading import Grader, Settings
from grader.judge.data import JudgeData
from grader.judge.report import Reporter
from grader.assignments.course.table import QUESTIONS_BY_ID

q5 = QUESTIONS_BY_ID["q5"]
held_out = dataclasses.replace(q5, thresholds={**q5.thresholds, "scored_on": "held-out"})
root = Path.cwd()
grader = Grader(Settings(project_root=root, student_dir=Path(sys.argv[1]), mute=True),
                JudgeData(root / "data"), Reporter(stream=sys.stderr))
[result] = grader.grade([held_out], honour_prerequisites=True)
print(json.dumps([[c.points, c.message] for c in result.checks]))
'''


def test_held_out_setting_scores_digits_the_model_never_saw(tmp_path):
    import json
    import subprocess
    import sys

    from helpers import REFERENCE, ROOT
    process = subprocess.run([sys.executable, "-c", HELD_OUT_RUN, str(REFERENCE)], cwd=ROOT,
                             capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stderr
    (_, convolve), (points, message) = json.loads(process.stdout.splitlines()[-1])
    assert points == 2, message
    assert "accuracy" in message and "on 500 digits it never saw (required: 80%)" in message
    assert "for information (not scored): " in message
    assert "on the 1000 digits it trained on" in message


# ------------------------------------------------------------- watching training (step 7)

def test_training_that_copies_its_dataset_or_spawns_workers_is_unaffected(tmp_path):
    """The grader's progress observer sits on the dataset while it trains: copies of
    the dataset and DataLoader workers started with "spawn" must work as they do in
    the student's own script."""
    student = make_submission(tmp_path / "student", {"train.py": (
        "import copy\n\n"
        "_given = train_regression\n\n"
        "def train_regression(model, dataset):\n"
        "    spare = copy.deepcopy(dataset)\n"
        "    loader = DataLoader(spare, batch_size=50, num_workers=1,\n"
        "                        multiprocessing_context='spawn')\n"
        "    assert sum(len(batch['x']) for batch in loader) == len(dataset)\n"
        "    _given(model, dataset)\n")})
    process, results = run_autograder("-q", "q2", "--student-dir", str(student),
                                      "--no-graphics", "--json", str(tmp_path / "r.json"))
    assert results["questions"]["q2"]["points"] == 5, process.stdout + messages(results, "q2")
