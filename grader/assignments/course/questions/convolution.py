"""q5: Convolve and a small convolutional network on an MNIST subset.

The judge draws random matrices and kernels, and checks the student's ``Convolve``
against its own 'valid' 2-D correlation; built-in convolutions are switched off
while ``Convolve`` runs. The network then trains on the subset, and the judge
scores it, as the course does, on the 200 digits it trained on (``scored_on`` in
the table: "training"), and reports for information its accuracy on 500 digits it
never saw. With "held-out" it trains on 1000 digits and those 500 are scored.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np

from grader.assignments.course import splits
from grader.assignments.course.questions.digits import (
    mnist_test_probes,
    train_and_predict,
    training_digit_probes,
)
from grader.checks.classifier import accuracy_hints, accuracy_verdict, measure_accuracy
from grader.checks.figure_data import save_validation_history, small_kernels
from grader.checks.values import expect_tensor
from grader.core.results import CheckResult
from grader.core.source import StepFailure
from grader.core.wiring import Definition, Probes

QUESTION = Definition(
    figure_plan="grader.assignments.course.figure_plans:convolution")
CASES = 12


@QUESTION.probes(reads=("scored_on",))
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    input_shapes = rng.integers(2, 9, (CASES, 2))
    weight_shapes = np.stack([rng.integers(1, input_shapes[:, 0] + 1),
                              rng.integers(1, input_shapes[:, 1] + 1)], axis=1)
    inputs = [rng.uniform(-1, 1, tuple(s)).astype(np.float32) for s in input_shapes]
    weights = [rng.uniform(-1, 1, tuple(s)).astype(np.float32) for s in weight_shapes]
    unseen = mnist_test_probes(rng, data, splits.Q5_TEST_SIZE)
    trained = training_digit_probes(rng, data, _training_size(settings))
    return Probes(public={"images": unseen.public["images"],
                          "training_images": trained.public["images"],
                          "conv_input_shapes": input_shapes,
                          "conv_weight_shapes": weight_shapes,
                          "conv_inputs": np.concatenate([a.ravel() for a in inputs]),
                          "conv_weights": np.concatenate([a.ravel() for a in weights])},
                  secret={"labels": unseen.secret["labels"],
                          "training_labels": trained.secret["labels"]})


def _training_size(settings) -> int:
    held_out = _held_out(settings)
    return splits.Q5_HELD_OUT_TRAIN_SIZE if held_out else splits.Q5_TRAIN_SIZE


def _held_out(settings) -> bool:
    if settings["scored_on"] not in ("training", "held-out"):
        raise ValueError(f"q5's scored_on must be 'training' or 'held-out', not "
                         f"{settings['scored_on']!r}")
    return settings["scored_on"] == "held-out"


def _unpack(flat: np.ndarray, shapes: np.ndarray) -> list[np.ndarray]:
    sizes = [int(a) * int(b) for a, b in shapes]
    parts = np.split(flat, np.cumsum(sizes)[:-1])
    return [part.reshape(tuple(shape)) for part, shape in zip(parts, shapes)]


def valid_correlation(matrix: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The judge's reference: out[i, j] = sum(matrix[i:i+h, j:j+w] * kernel)."""
    windows = np.lib.stride_tricks.sliding_window_view(matrix, kernel.shape)
    return np.einsum("ijkl,kl->ij", windows, kernel)


# ------------------------------------------------------------------ sandbox side

@contextlib.contextmanager
def builtin_convolutions_disabled(student_module):
    """Make torch's convolutions raise while the student's Convolve runs."""
    import torch
    import torch.nn.functional as functional
    owners = (torch, functional)
    names = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
             "conv_transpose3d", "convolution")
    originals = {(owner, name): getattr(owner, name)
                 for owner in owners for name in names if hasattr(owner, name)}
    banned = {id(function) for function in originals.values()}
    local = {name: value for name, value in vars(student_module).items() if id(value) in banned}

    def refuse(*args, **kwargs):
        raise StepFailure("builtin", "models.Convolve used one of torch's built-in "
                                     "convolutions; write the convolution yourself with "
                                     "tensor operations (see the docstring)")
    for owner, name in originals:
        setattr(owner, name, refuse)
    for name in local:
        setattr(student_module, name, refuse)
    try:
        yield
    finally:
        for (owner, name), function in originals.items():
            setattr(owner, name, function)
        for name, function in local.items():
            setattr(student_module, name, function)


@QUESTION.step("convolve", budgeted=True)
def convolve(ctx, record):
    import torch
    models = ctx.student("models")
    function = ctx.lookup(models, "Convolve")
    inputs = _unpack(ctx.probes["conv_inputs"], ctx.probes["conv_input_shapes"])
    weights = _unpack(ctx.probes["conv_weights"], ctx.probes["conv_weight_shapes"])
    shapes, values = [], []
    with builtin_convolutions_disabled(models):
        for matrix, kernel in zip(inputs, weights):
            output = expect_tensor(ctx.call("models.Convolve", function,
                                            torch.from_numpy(matrix), torch.from_numpy(kernel)),
                                   "models.Convolve", function)
            shapes.append(list(output.shape))
            values.append(output.detach().double().reshape(-1).numpy())
    record["shapes"] = shapes
    record.save("outputs", np.concatenate(values) if values else np.zeros(0))


@QUESTION.step("train", reads=("scored_on",))
def train(ctx, record):
    train_and_predict(ctx, record, model_name="DigitConvolutionalModel",
                      dataset_name="DigitClassificationDataset2",
                      train_name="train_digitconvolution",
                      dataset_options={"held_out": _held_out(ctx.settings)},
                      also_predict=("training_images",))


@QUESTION.figure_data_step()
def figure_data(ctx, record):
    """The learned kernel(s) (the judge convolves a digit with the first), and
    the validation accuracies the student's code asked for."""
    save_validation_history(record, ctx.kept.get("dataset"))
    model = ctx.kept.get("model")
    kernels = small_kernels(model) if model is not None else None
    if kernels is not None:
        record.save("kernels", kernels)


# -------------------------------------------------------------------- judge side

@QUESTION.verdict("convolve", reads=("tolerance",))
def judge_convolve(v):
    result = v.step()
    outputs = v.outcome.array("convolve", "outputs")
    if result is None or not result.ok or outputs is None:
        return v.missing()
    shapes = result.values.get("shapes")
    if not isinstance(shapes, list) or len(shapes) != CASES:
        return v.failed("the Convolve check did not report its results")
    inputs = _unpack(v.probes["conv_inputs"], v.probes["conv_input_shapes"])
    weights = _unpack(v.probes["conv_weights"], v.probes["conv_weight_shapes"])
    tolerance = v.settings["tolerance"]
    offset = 0
    for matrix, kernel, shape in zip(inputs, weights, shapes):
        expected = valid_correlation(matrix.astype(np.float64), kernel.astype(np.float64))
        size = f"a {matrix.shape[0]}x{matrix.shape[1]} input and a {kernel.shape[0]}x" \
               f"{kernel.shape[1]} weight"
        if tuple(shape) != expected.shape:
            hint = " (the skeleton's empty tensor: fill Convolve in)" if shape == [0] else ""
            return v.failed(f"Convolve returned shape {tuple(shape)} for {size}; expected "
                            f"{expected.shape} (H-h+1, W-w+1){hint}")
        got = outputs[offset:offset + expected.size].reshape(expected.shape)
        offset += expected.size
        if not np.allclose(got, expected, rtol=tolerance, atol=tolerance):
            worst = np.unravel_index(np.argmax(np.abs(got - expected)), expected.shape)
            return v.failed(
                f"Convolve is wrong for {size}: entry {tuple(int(i) for i in worst)} is "
                f"{got[worst]:.5f}, expected {expected[worst]:.5f}, the sum of "
                f"input[i:i+h, j:j+w] * weight (no flipping of the weight)")
    return v.passed(f"matches the reference on {CASES} random cases")


@QUESTION.verdict("train", reads=("min_accuracy", "scored_on"))
def judge_accuracy(v):
    """The course's criterion by default: accuracy on the digits the model trained
    on; the accuracy on digits it never saw is reported beside it, never scored."""
    held_out = _held_out(v.settings)
    trained = f"the {_training_size(v.settings)} digits it trained on"
    unseen = f"{splits.Q5_TEST_SIZE} digits it never saw"
    on_training = measure_accuracy(v, v.secret["training_labels"], trained,
                                   array="training_logits")
    on_unseen = measure_accuracy(v, v.secret["labels"], unseen)
    scored, scored_what, shown, shown_what = (on_training, trained, on_unseen, unseen)
    if held_out:
        scored, scored_what, shown, shown_what = (on_unseen, unseen, on_training, trained)
    if isinstance(scored, CheckResult):
        return scored
    array = "logits" if held_out else "training_logits"
    predicted = v.outcome.array(v.check.key, array).argmax(axis=1)
    # By default get_validation_accuracy() measures the very digits that are scored.
    advice = accuracy_hints(v, scored, "held-out digits" if held_out else None, predicted)
    verdict = accuracy_verdict(v, scored, f"accuracy {scored:.2%} on {scored_what}", advice)
    if isinstance(shown, CheckResult):
        return verdict
    return dataclasses.replace(verdict, message=(
        f"{verdict.message}\nfor information (not scored): {shown:.2%} on {shown_what} (the "
        "gap between the two shows fitting the training digits against generalising to new "
        "ones)"))
