"""A classifier scored on labels the judge keeps: the sandbox predicts the judge's
inputs with the labels withheld from student code, the judge measures the accuracy,
the confusion matrix and the advice for a shortfall."""

from __future__ import annotations

import dataclasses

import numpy as np

from grader.checks import hints
from grader.checks.training import training_notes
from grader.checks.values import expect_shape, run_model
from grader.core.model_calls import evaluating
from grader.core.results import FRACTION, CheckResult, Measured
from grader.core.source import StepFailure


class Withheld:
    """Stands in for test labels inside the sandbox: the judge keeps them, and
    using them (for training or for printing a test score) is a clear error."""

    def __init__(self, name: str, instead: str = "use dataset.get_validation_accuracy() "
                                                  "(the dev split) to follow training instead"):
        self._name, self._instead = name, instead

    def _refuse(self, *args, **kwargs):
        raise StepFailure("withheld", f"dataset.{self._name} is kept by the autograder while "
                                      "it grades (the test split is scored by the grader). "
                                      f"{self._instead[0].upper()}{self._instead[1:]}.")

    def __getattr__(self, name: str):
        # Python's own protocol lookups (copy.deepcopy asks for __deepcopy__, pickle
        # for __reduce_ex__...) get the usual AttributeError; any other use refuses.
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        self._refuse()

    __getitem__ = __len__ = __iter__ = __array__ = __eq__ = __ne__ = _refuse
    __float__ = __int__ = __bool__ = _refuse


def predict_in_chunks(ctx, model, label: str, inputs: np.ndarray, columns: int,
                      chunk: int = 1000) -> np.ndarray:
    """``model(inputs)`` in evaluation mode without gradients, as a float32 array."""
    import torch
    outputs = []
    with evaluating(model), torch.no_grad():
        for start in range(0, len(inputs), chunk):
            batch = torch.from_numpy(np.ascontiguousarray(inputs[start:start + chunk]))
            output, name = run_model(ctx, model, label, batch)
            expect_shape(output, (len(batch), columns), name)
            outputs.append(output.detach().float().cpu().numpy())
    return np.concatenate(outputs)


def measure_accuracy(v, labels: np.ndarray, what: str, array: str = "logits"):
    """The fraction of the judge's ``labels`` that the argmax of the logits the
    sandbox saved (as ``array``) gets right, or the failed CheckResult saying why
    there is none. ``what`` names the inputs, e.g. 'test digits'."""
    result = v.step()
    logits = v.outcome.array(v.check.key, array)
    if result is None or not result.ok or logits is None:
        return missing_with_hints(v)
    if logits.shape[0] != len(labels) or logits.ndim != 2:
        return v.failed(f"predictions for {len(labels)} {what} were expected; got an array "
                        f"of shape {logits.shape}")
    if not np.isfinite(logits).all():
        return v.failed("the model's scores contain NaN or infinity after training (is the "
                        "learning rate too high?)", metric=Measured(0.0, FRACTION))
    return float(np.mean(logits.argmax(axis=1) == labels))


def accuracy_hints(v, accuracy: float, what: str, predicted: np.ndarray | None = None,
                   names=None) -> str:
    """Advice for an accuracy below the table's ``min_accuracy`` (each on its own
    'Hint:' line): one class for everything, a NaN loss, validation against test."""
    threshold = v.settings["min_accuracy"]
    if accuracy >= threshold:
        return ""
    values = v.step().values if v.step() is not None else {}
    training = values.get("training") if isinstance(values.get("training"), dict) else {}
    found = [hints.constant_prediction_hint(predicted, names) if predicted is not None else "",
             hints.language_batch_hint(training.get("last_input_shape")),
             hints.training_hint(training),
             hints.validation_hint(training, threshold, accuracy, what)]
    return "".join(f"\nHint: {hint}" for hint in found if hint)


def missing_with_hints(v):
    """``v.missing()``, plus advice when training ran into the time limit while the
    student's code kept asking for validation accuracy."""
    result = v.missing()
    hint = ""
    threshold = v.settings.get("min_accuracy")   # None: the question has no threshold
    if v.outcome.stopped == "timeout" and v.check.key in v.outcome.started \
            and threshold is not None:
        hint = hints.endless_loop_hint(v.outcome.progress, threshold)
    step = v.step()
    if not hint and step is not None and isinstance(step.values.get("training"), dict):
        hint = hints.language_batch_hint(step.values["training"].get("last_input_shape"))
    if hint and hint not in result.message:
        result = dataclasses.replace(result, message=result.message + f"\nHint: {hint}")
    return result


def accuracy_verdict(v, accuracy: float, measured: str, advice: str = "") -> CheckResult:
    """Pass when ``accuracy`` reaches the table's ``min_accuracy``. ``measured`` says
    on what, e.g. 'test accuracy 97.50% on 5000 test digits'; ``advice`` (from
    ``accuracy_hints``) follows."""
    threshold = v.settings["min_accuracy"]
    message = (f"{measured} (required: {hints.percent(threshold)})"
               + training_notes(v.step().values) + advice)
    figure = Measured(accuracy, FRACTION, at_least=threshold)
    if accuracy >= threshold:
        return v.passed(message, metric=figure)
    return v.failed(message, metric=figure)


def test_accuracy_verdict(v, labels: np.ndarray, what: str) -> CheckResult:
    """``accuracy_verdict`` for the logits of the judge's test inputs."""
    accuracy = measure_accuracy(v, labels, what)
    if isinstance(accuracy, CheckResult):
        return accuracy
    predicted = v.outcome.array(v.check.key, "logits").argmax(axis=1)
    return accuracy_verdict(v, accuracy, f"test accuracy {accuracy:.2%} on {len(labels)} {what}",
                            accuracy_hints(v, accuracy, what, predicted))


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) int64 counts: row = true class, column = predicted class.

    Args:
        labels, predicted: (N,) class indices in [0, classes).
    """
    labels, predicted = np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    if labels.shape != predicted.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and predictions {predicted.shape} must be "
                         "equal-length 1-D arrays")
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def points_on_scale(accuracy: float, mark: float, floor: float, points: float) -> float:
    """Points for ``accuracy`` on a scale around ``mark``: all ``points`` at the mark
    or above, one point less per percentage point below it, none at ``floor`` or
    below (e.g. 20 points at 90%, 15 at 85%, 0 at 70%)."""
    if accuracy >= mark:
        return float(points)
    if accuracy <= floor:
        return 0.0
    return max(0.0, float(points) - 100 * (mark - accuracy))


def extra_credit_above(accuracy: float, mark: float, most: float) -> float:
    """One point of extra credit per percentage point above ``mark``, at most
    ``most``."""
    return min(float(most), max(0.0, 100 * (accuracy - mark)))
