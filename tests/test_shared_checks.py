"""Unit tests for the shared question code in grader/checks: gradient comparison
(gradients.py) and facts read from a model's module tree (model_tree.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from grader.checks import gradients, model_tree
from grader.checks.gradients import compare_gradient
from grader.core.source import StepFailure

# ------------------------------------------------------------------ gradients


def _mlp_problem(seed: int = 0):
    """A small MLP (5 -> 4 -> 3) with softmax cross-entropy on 6 examples: the
    weights and a loss of W1 written once for numpy and once for torch."""
    rng = np.random.default_rng(seed)
    x, labels = rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)
    W1, b1 = rng.normal(size=(4, 5)), rng.normal(size=4)
    W2, b2 = rng.normal(size=(3, 4)), rng.normal(size=3)

    def numpy_loss(w1):
        hidden = np.maximum(x @ w1.T + b1, 0.0)
        scores = hidden @ W2.T + b2
        scores = scores - scores.max(axis=1, keepdims=True)
        log_p = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
        return -log_p[np.arange(len(x)), labels].mean()

    def torch_loss(w1):
        hidden = torch.relu(torch.from_numpy(x) @ w1.T + torch.from_numpy(b1))
        scores = hidden @ torch.from_numpy(W2).T + torch.from_numpy(b2)
        return torch.nn.functional.cross_entropy(scores, torch.from_numpy(labels))

    return W1, numpy_loss, torch_loss


def test_numerical_and_autograd_gradients_agree():
    W1, numpy_loss, torch_loss = _mlp_problem()
    before = W1.copy()
    numerical = gradients.numerical_gradient(numpy_loss, W1)
    exact = gradients.autograd_gradient(torch_loss, W1)
    assert numerical.shape == exact.shape == W1.shape
    assert numerical.dtype == exact.dtype == np.float64
    assert np.abs(exact).max() > 1e-3                 # not trivially zero
    np.testing.assert_allclose(numerical, exact, rtol=0, atol=1e-6)
    assert np.array_equal(W1, before)                  # put back exactly
    assert compare_gradient("W1_grad", numerical, exact) == ""


def test_numerical_gradient_perturbs_the_array_a_model_reads():
    # The function ignores its argument and reads the array through an object, as a
    # student's MLP would read self.W1.
    class Model:
        W = np.array([[1.0, 2.0], [3.0, 4.0]])
    gradient = gradients.numerical_gradient(lambda _: float((Model.W ** 2).sum()), Model.W)
    np.testing.assert_allclose(gradient, 2 * Model.W, atol=1e-6)
    assert np.array_equal(Model.W, [[1.0, 2.0], [3.0, 4.0]])


def test_numerical_gradient_of_other_inputs_and_exceptions():
    ints = np.array([1, 2, 3])
    np.testing.assert_allclose(gradients.numerical_gradient(lambda a: (a ** 3).sum(), ints),
                               [3.0, 12.0, 27.0], atol=1e-4)
    transposed = np.arange(6.0).reshape(2, 3).T        # not C-contiguous
    weights = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(
        gradients.numerical_gradient(lambda a: float((a * weights).sum()), transposed),
        weights, atol=1e-6)
    point = np.array([1.0, 2.0])

    def failing(a):
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        gradients.numerical_gradient(failing, point)
    assert np.array_equal(point, [1.0, 2.0])


def test_autograd_gradient_edge_cases():
    point = np.array([1.0, -2.0])
    np.testing.assert_allclose(gradients.autograd_gradient(lambda t: (t ** 2).sum(), point),
                               [2.0, -4.0])
    unused = gradients.autograd_gradient(lambda t: torch.tensor(3.0, dtype=torch.float64,
                                                                requires_grad=True), point)
    assert np.array_equal(unused, [0.0, 0.0])
    with pytest.raises(ValueError):
        gradients.autograd_gradient(lambda t: t * 2, point)


def test_relative_error():
    assert gradients.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert gradients.relative_error([1.0, 3.0], [1.0, 2.0]) == pytest.approx(0.5)
    assert gradients.relative_error([], []) == 0.0


@pytest.fixture
def expected():
    return np.random.default_rng(1).normal(size=(4, 6))


def test_equal_gradients_pass(expected):
    assert compare_gradient("W1_grad", expected.copy(), expected) == ""
    assert compare_gradient("W1_grad", expected + 1e-9, expected) == ""
    assert compare_gradient("W1_grad", expected.tolist(), expected) == ""
    assert compare_gradient("W1_grad", torch.tensor(expected, requires_grad=True),
                            expected) == ""


def test_transposed_shape(expected):
    message = compare_gradient("W1_grad", expected.T.copy(), expected)
    assert message.startswith("W1_grad has shape (6, 4); expected (4, 6)")
    assert "it is the expected gradient transposed" in message


def test_transposed_values_of_a_square_matrix():
    square = np.random.default_rng(2).normal(size=(5, 5))
    message = compare_gradient("W2_grad", square.T.copy(), square)
    assert "W2_grad" in message and "transposed" in message
    assert "largest difference" in message and "relative error" in message


def test_averaged_where_a_sum_was_asked(expected):
    message = compare_gradient("W1_grad", expected / 32, expected)
    assert "W1_grad" in message and "divided by 32" in message
    assert "averaged over 32 examples" in message
    assert "sign" not in message


def test_summed_where_a_mean_was_asked(expected):
    message = compare_gradient("b1_grad", expected * 8, expected)
    assert "times 8" in message and "summed over 8 examples" in message


def test_other_constant_factor_and_flipped_averaged(expected):
    assert "times 2.5:" in compare_gradient("W1_grad", 2.5 * expected, expected)
    message = compare_gradient("W1_grad", -expected / 4, expected)
    assert "sign is flipped" in message and "averaged over 4 examples" in message


def test_flipped_sign(expected):
    message = compare_gradient("W2_grad", -expected, expected)
    assert message.startswith("W2_grad differs from the expected gradient in 24 of 24 entries")
    assert "sign is flipped" in message and "divided" not in message


def test_all_zeros(expected):
    message = compare_gradient("b2_grad", np.zeros_like(expected), expected)
    assert "b2_grad" in message and "zero everywhere" in message
    assert "sign" not in message and "times" not in message


def test_largest_difference_and_its_index(expected):
    found = expected.copy()
    found[2, 3] += 0.5
    message = compare_gradient("W1_grad", found, expected)
    assert "in 1 of 24 entries" in message
    assert "largest difference is 0.5 at index (2, 3)" in message
    assert "chain rule" in message                   # no pattern: the general advice
    assert "transpose" not in message and "times" not in message


def test_noise_is_not_called_a_factor():
    rng = np.random.default_rng(3)
    expected = rng.normal(size=50)
    message = compare_gradient("b1_grad", expected + rng.normal(size=50) * 0.1, expected)
    assert "chain rule" in message and "index" in message
    # A single non-zero entry: every answer is "a multiple", so nothing is claimed.
    one = np.zeros(5)
    one[1] = 1.0
    assert "chain rule" in compare_gradient("b1_grad", one * 32, one)


def test_wrong_shape(expected):
    message = compare_gradient("W1_grad", np.ones((3, 6)), expected)
    assert message.startswith("W1_grad has shape (3, 6); expected (4, 6)")
    assert "transpose" not in message
    assert "arrangement" in compare_gradient("W1_grad", np.ones(24), expected)


def test_one_gradient_per_example():
    expected = np.array([1.0, 2.0, 3.0])
    per_example = np.tile(expected / 4, (4, 1))
    message = compare_gradient("b1_grad", per_example, expected)
    assert "one gradient per example (4 of them)" in message
    assert "their sum over axis 0 is the expected gradient" in message


def test_none_and_not_arrays(expected):
    message = compare_gradient("W1_grad", None, expected)
    assert message.startswith("W1_grad is None") and "(4, 6)" in message
    assert "a str" in compare_gradient("W1_grad", "gradient", expected)
    assert "a dict" in compare_gradient("W1_grad", {"W": 1}, expected)
    assert "not an array" in compare_gradient("W1_grad", [[1.0, 2.0], [3.0]], expected)


def test_nan_and_infinity(expected):
    found = expected.copy()
    found[1, 2] = np.nan
    found[3, 0] = np.inf
    message = compare_gradient("W1_grad", found, expected)
    assert message.startswith("W1_grad contains 2 NaN or infinite entries of 24")
    assert "index (1, 2)" in message


def test_messages_are_one_sentence(expected):
    for found in (None, expected.T, expected / 32, -expected, np.zeros_like(expected)):
        message = compare_gradient("W1_grad", found, expected)
        assert message and "\n" not in message
        assert ". " not in message.replace("e.g. ", "") and not message.endswith(".")


# ----------------------------------------------------------------- model_tree


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = torch.nn.Linear(4, 4)

    def forward(self, x):
        return torch.relu(self.inner(x)) + x


class TwoLayers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 64)
        self.fc2 = torch.nn.Linear(64, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


MLP_TYPES = {"Flatten", "Linear", "ReLU", "Dropout", "Softmax"}


def _mlp():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 100), torch.nn.ReLU(),
                               torch.nn.Dropout(0.2), torch.nn.Linear(100, 10),
                               torch.nn.Softmax(dim=1))


def test_sequential_mlp():
    model = _mlp()
    found = model_tree.layers(model)
    assert model_tree.parameter_count(model) == 784 * 100 + 100 + 100 * 10 + 10
    assert [entry["type"] for entry in found] == ["Flatten", "Linear", "ReLU", "Dropout",
                                                   "Linear", "Softmax"]
    assert [entry["name"] for entry in found] == ["0", "1", "2", "3", "4", "5"]
    assert found[1] == {"name": "1", "type": "Linear", "parameters": 78500, "custom": False,
                        "in_features": 784, "out_features": 100}
    assert found[3]["p"] == pytest.approx(0.2)
    assert model_tree.hidden_units(found) == [100]
    assert model_tree.forbidden(found, MLP_TYPES) == []
    assert json.loads(json.dumps(found)) == found          # JSON-able, as recorded


def test_forbidden_layers_are_reported():
    conv = torch.nn.Sequential(torch.nn.Conv1d(1, 4, 3), torch.nn.Flatten(),
                               torch.nn.LayerNorm(8), torch.nn.Linear(8, 10))
    assert model_tree.forbidden(model_tree.layers(conv), MLP_TYPES) == [
        "layer 0 (Conv1d)", "layer 2 (LayerNorm)"]
    with_block = torch.nn.Sequential()
    with_block.add_module("features", torch.nn.Sequential(torch.nn.Linear(4, 4),
                                                          torch.nn.ReLU(), Block()))
    found = model_tree.layers(with_block)
    assert [entry["name"] for entry in found] == ["features.0", "features.1", "features.2"]
    assert found[2]["custom"] is True and found[2]["parameters"] == 20
    assert model_tree.forbidden(found, MLP_TYPES) == ["features.2 (Block, a module of your own)"]
    assert model_tree.forbidden(found, MLP_TYPES | {"Block"}) == [
        "features.2 (Block, a module of your own)"]
    assert model_tree.forbidden(found, MLP_TYPES, allow_custom=True) == []


class Linear(torch.nn.Module):
    """A student's own class that borrows torch's name."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(10, 784))

    def forward(self, x):
        return x @ self.weight.T


def test_a_class_of_ones_own_with_a_torch_name_is_still_ones_own():
    Linear.__module__ = "torch.nn"           # borrowing the home does not help either
    found = model_tree.layers(torch.nn.Sequential(torch.nn.Flatten(), Linear()))
    assert found[1]["custom"] is True
    assert model_tree.forbidden(found, MLP_TYPES) == ["layer 1 (Linear, a module of your own)"]


def test_nested_containers_are_flattened():
    model = torch.nn.Sequential(
        torch.nn.Sequential(torch.nn.Linear(10, 20), torch.nn.ReLU()),
        torch.nn.ModuleList([torch.nn.Linear(20, 30)]),
        torch.nn.ModuleDict({"out": torch.nn.Linear(30, 5)}))
    found = model_tree.layers(model)
    assert [entry["name"] for entry in found] == ["0.0", "0.1", "1.0", "2.out"]
    assert model_tree.hidden_units(found) == [20, 30]


def test_custom_root_lists_its_attributes():
    found = model_tree.layers(TwoLayers())
    assert [(entry["name"], entry["type"]) for entry in found] == [("fc1", "Linear"),
                                                                   ("fc2", "Linear")]
    assert model_tree.hidden_units(found) == [64]
    assert [model_tree.describe(entry) for entry in found] == ["Linear(784, 64)",
                                                               "Linear(64, 10)"]


def test_a_plain_layer_as_the_whole_model():
    found = model_tree.layers(torch.nn.Linear(3, 2))
    assert [(entry["name"], entry["type"]) for entry in found] == [("", "Linear")]
    assert model_tree.forbidden(found, {"ReLU"}) == ["the model (Linear)"]
    assert model_tree.hidden_units(found) == []


def test_cnn_parameters_and_descriptions():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3), torch.nn.BatchNorm2d(8),
                                torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                torch.nn.Linear(8 * 13 * 13, 10))
    found = model_tree.layers(model)
    assert model_tree.parameter_count(model) == sum(p.numel() for p in model.parameters())
    assert sum(entry["parameters"] for entry in found) == model_tree.parameter_count(model)
    assert found[0]["kernel_size"] == [3, 3] and found[1]["parameters"] == 16
    assert model_tree.describe(found[0]) == "Conv2d(1, 8, kernel 3x3)"
    assert model_tree.describe({"type": "Dropout", "p": 0.5}) == "Dropout(p=0.5)"
    assert model_tree.describe(found[2]) == "ReLU"


def test_shared_layers_are_counted_once():
    shared = torch.nn.Linear(5, 5)
    model = torch.nn.Sequential(shared, torch.nn.ReLU(), shared)
    assert model_tree.parameter_count(model) == 30
    assert [entry["name"] for entry in model_tree.layers(model)] == ["0", "1"]
    # Shared across two containers (torch's named_children only sees one parent).
    nested = torch.nn.Sequential(torch.nn.Sequential(shared), torch.nn.ReLU(),
                                 torch.nn.Sequential(shared))
    assert [entry["name"] for entry in model_tree.layers(nested)] == ["0.0", "1"]


def test_lazy_layers_are_refused():
    with pytest.raises(StepFailure, match="LazyLinear"):
        model_tree.parameter_count(torch.nn.Sequential(torch.nn.LazyLinear(10)))


def test_judge_side_tolerates_odd_records():
    assert model_tree.hidden_units([]) == [] and model_tree.hidden_units(None) == []
    assert model_tree.forbidden(["junk", {"type": "ReLU", "name": "r", "custom": False}],
                                {"ReLU"}) == []
    # A record that does not say whether the class is torch's counts as the student's.
    assert model_tree.forbidden([{"type": "ReLU", "name": "r"}], {"ReLU"}) == [
        "r (ReLU, a module of your own)"]
