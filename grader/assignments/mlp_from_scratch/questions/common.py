"""What the questions of "mlp-from-scratch" share: the data with its test labels
withheld (sandbox side), the student's MLP with weights the judge chose, and the
judge's own MLP arithmetic (a numpy forward pass and the summed cross-entropy, and
the same loss in torch for autograd)."""

from __future__ import annotations

import numpy as np

from grader.checks.classifier import Withheld
from grader.core.source import StepFailure

MLP_MODULE, CNN_MODULE = "mlp", "cnn"
SHAPES = {"W1": (64, 784), "b1": (64,), "W2": (10, 64), "b2": (10,)}
PARAMETERS = tuple(SHAPES)
INSTEAD = ("measure on the validation set (dataset.accuracy(model, 'validation')) to "
           "follow training instead")


# ------------------------------------------------------------------ sandbox side

def digits_withheld(ctx):
    """The project's Digits with the test labels kept by the autograder."""
    import mlp_data  # the assignment's support module, loaded by the sandbox
    dataset = ctx.call("mlp_data.load_digits()", mlp_data.load_digits)
    for name in ("test_labels", "test_digits"):
        setattr(dataset, name, Withheld(name, INSTEAD))
    return dataset


def new_mlp(ctx, weights: dict | None = None):
    """``mlp.MLP()``, with the judge's ``weights`` (float64 arrays by name) put in
    place of its own when given."""
    model = ctx.call("mlp.MLP()", ctx.lookup(ctx.student(MLP_MODULE), "MLP"))
    for name, value in (weights or {}).items():
        setattr(model, name, np.array(value, dtype=np.float64))
    return model


def parameters_of(model, suffix: str = "") -> dict[str, np.ndarray]:
    """The MLP's W1, b1, W2, b2 (or, with suffix '_grad', their gradients) as float64
    arrays; StepFailure naming a missing or non-numeric attribute."""
    found = {}
    for name in PARAMETERS:
        attribute = name + suffix
        if not hasattr(model, attribute):
            raise StepFailure("missing", f"mlp.MLP has no attribute {attribute}: keep the "
                                         "skeleton's names (W1, b1, W2, b2 and their _grad)")
        value = getattr(model, attribute)
        try:
            found[name] = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise StepFailure("type", f"mlp.MLP.{attribute} is a {type(value).__name__}, not "
                                      "a numpy array") from None
    return found


def predicted_scores(ctx, model, images: np.ndarray, label: str) -> np.ndarray:
    """``model.forward`` on (N, 784) images in batches, as (N, 10) float64."""
    from grader.checks.values import as_numbers
    scores = []
    for start in range(0, len(images), 1000):
        batch = images[start:start + 1000]
        found = ctx.call(label, model.forward, batch)
        array = as_numbers(found, label)
        if array.shape != (len(batch), 10):
            raise StepFailure("shape", f"{label} returned shape {array.shape} for a batch of "
                                       f"{len(batch)} images; expected ({len(batch)}, 10)")
        scores.append(array.astype(np.float64))
    return np.concatenate(scores)


# -------------------------------------------------------------------- judge side

def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def forward(weights: dict, x: np.ndarray) -> np.ndarray:
    """softmax(W2 sigmoid(W1 x + b1) + b2) for (B, 784) images: (B, 10)."""
    f1 = sigmoid(x @ weights["W1"].T + weights["b1"])            # (B, 64)
    a2 = f1 @ weights["W2"].T + weights["b2"]                    # (B, 10)
    e = np.exp(a2 - a2.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def loss(weights: dict, x: np.ndarray, y: np.ndarray) -> float:
    """The cross-entropy of (B, 10) one-hot labels, summed over the batch."""
    return float(-np.sum(y * np.log(forward(weights, x))))


def torch_loss(weights, x: np.ndarray, y: np.ndarray):
    """``loss`` in torch, for autograd: ``weights`` are float64 tensors by name."""
    import torch
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    f1 = torch.sigmoid(x @ weights["W1"].T + weights["b1"])
    a2 = f1 @ weights["W2"].T + weights["b2"]
    return -(y * torch.log_softmax(a2, dim=1)).sum()
