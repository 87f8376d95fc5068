"""Step 12b, the assignment checks: first-networks q3 names pooled statistics before
the figures, its model summary says when activations are no modules, depth-width's
CNN summary leaves hidden units out, and 3G counts epochs over the images trained on."""

from __future__ import annotations

import pytest

from helpers import ROOT, grade_json, messages, points_by_test, solution_with

FIRST = ROOT / "tests" / "reference_first_networks"

POOLED_STATISTICS = """
def standardize(train_images, test_images):
    both = torch.cat([train_images, test_images])
    mean, std = both.mean(), both.std()
    return (train_images - mean) / std, (test_images - mean) / std
"""

PER_PIXEL = """
def standardize(train_images, test_images):
    mean, std = train_images.mean(dim=0), train_images.std(dim=0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return (train_images - mean) / std, (test_images - mean) / std
"""

CENTRED_ONLY = """
def standardize(train_images, test_images):
    mean = train_images.mean()
    return train_images - mean, test_images - mean
"""


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_pooled_statistics_are_named_on_every_seed(tmp_path, seed):
    student = solution_with(FIRST, tmp_path / "s", {"mnist_linear.py": POOLED_STATISTICS})
    _, results = grade_json(tmp_path, student, "-q", "q3", "--seed", str(seed))
    said = messages(results, "q3")
    assert results["total"] == 0
    assert "the training images came out differently when only the test images changed" \
        in said
    assert "computed over the training and test images together?" in said
    assert "standard deviation 1.001" not in said and "have mean" not in said


@pytest.mark.parametrize("variant, points, said", [
    (PER_PIXEL, 2, "the training images have mean 0 and standard deviation 1"),
    (CENTRED_ONLY, 0, "; expected mean 0 and standard deviation 1 within 0.001, over all "
                      "pixels or pixel by pixel"),
], ids=["per pixel passes", "unscaled names the tolerance"])
def test_the_statistics_message_names_its_tolerance(tmp_path, variant, points, said):
    student = solution_with(FIRST, tmp_path / "s", {"mnist_linear.py": variant})
    _, results = grade_json(tmp_path, student, "-q", "q3")
    assert results["total"] == points
    assert said in messages(results, "q3")


FUNCTIONAL_RELU = """
class QuadrantNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden1, self.hidden2 = nn.Linear(2, 16), nn.Linear(16, 16)
        self.output = nn.Linear(16, 4)

    def forward(self, x):
        x = torch.relu(self.hidden1(x))
        x = nn.functional.relu(self.hidden2(x))
        return self.output(x)
"""


def test_a_summary_says_when_activations_are_no_modules(tmp_path):
    student = solution_with(FIRST, tmp_path / "s", {"quadrants.py": FUNCTIONAL_RELU})
    _, results = grade_json(tmp_path, student, "-q", "q2")
    assert points_by_test(results)["q2: QuadrantNet: two hidden layers, four outputs"] == 1
    assert "Linear(2, 16), Linear(16, 16), Linear(16, 4) (no activation modules: " \
           "activations, if any, are applied in forward): 2 hidden layers, 4 outputs" \
        in messages(results, "q2")


def linear(size_in: int, size_out: int, custom: bool = False) -> dict:
    return {"name": "", "type": "Linear", "parameters": 0, "custom": custom,
            "in_features": size_in, "out_features": size_out}


def test_the_note_is_left_out_where_an_activation_may_be_a_module():
    from grader.checks.model_tree import summary
    relu = {"name": "1", "type": "ReLU", "parameters": 0, "custom": False}
    block = {"name": "1", "type": "Block", "parameters": 0, "custom": True}
    assert summary([linear(2, 16), relu, linear(16, 4)]) == "Linear(2, 16), ReLU, Linear(16, 4)"
    assert summary([linear(2, 16), block, linear(16, 4)]) == \
        "Linear(2, 16), Block, Linear(16, 4)"
    assert summary([linear(2, 16, custom=True)]) == "Linear(2, 16)"
    assert summary([]) == "no layers"
    assert summary([linear(2, 4)]).endswith("(no activation modules: activations, if any, "
                                            "are applied in forward)")


def depth_width_verdict(question_id: str, key: str, step_key: str, values: dict):
    """The verdict of check ``key`` of depth-width's ``question_id``, on a step
    ``step_key`` that recorded ``values``."""
    from types import SimpleNamespace

    from grader import assignments
    from grader.core.wiring import SettingsView, VerdictInput, load_definition
    question = next(q for q in assignments.get("depth-width").questions
                    if q.id == question_id)
    check = next(c for c in question.checks if c.key == key)
    verdict = load_definition(question.module).verdicts[key]
    step = SimpleNamespace(ok=True, values=values, seconds=1.0)
    outcome = SimpleNamespace(step=lambda asked: step if asked == step_key else None)
    return verdict.function(VerdictInput(
        question, check, outcome, {}, {}, None,
        SettingsView(question.thresholds, verdict.reads, "test")))


def conv(size_in: int, size_out: int) -> dict:
    return {"name": "0", "type": "Conv2d", "parameters": 80, "custom": False,
            "in_channels": size_in, "out_channels": size_out, "kernel_size": [3, 3]}


def plain(kind: str) -> dict:
    return {"name": "1", "type": kind, "parameters": 0, "custom": False}


def test_the_cnn_summary_counts_parameters_and_no_hidden_units():
    layers = [conv(1, 8), plain("BatchNorm2d"), plain("ReLU"), plain("Flatten"),
              plain("Dropout"), linear(8 * 28 * 28, 10)]
    cnn = depth_width_verdict("q3g", "limits", "limits", {
        "layers": layers, "parameters": 62_826, "sequential": True})
    assert cnn.points == 6
    assert cnn.message.endswith("Linear(6272, 10): 62,826 parameters"), cnn.message
    assert "hidden unit" not in cnn.message
    dense = depth_width_verdict("q2c", "limits", "limits", {
        "layers": [plain("Flatten"), linear(784, 100), plain("ReLU"), linear(100, 10)],
        "parameters": 79_510, "sequential": True})
    assert dense.points == 3
    assert "100 hidden units in 1 hidden layer(s), 79,510 parameters" in dense.message
