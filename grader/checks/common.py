"""Helpers shared by the questions: checking what student code returned (sandbox
side) and turning sandbox outcomes into check results (judge side)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from grader.checks import hints
from grader.core.model_calls import evaluating
from grader.core.results import CheckResult
from grader.core.source import StepFailure, is_stub

# ---------------------------------------------------------------- sandbox side


def expect_tensor(value, label: str, method=None):
    """``value`` if it is a torch tensor, else a StepFailure saying what it was."""
    import torch
    if value is None:
        if method is not None and is_stub(method):
            raise StepFailure("none", f"{label} returned None: it is still the skeleton. "
                                      "Fill it in (see its docstring).")
        raise StepFailure("none", f"{label} returned None: is a `return` statement missing?")
    if not torch.is_tensor(value):
        raise StepFailure("type", f"{label} returned a {type(value).__name__}; it should "
                                  "return a torch tensor")
    return value


def expect_shape(tensor, shape: tuple, label: str, meaning: str = "") -> None:
    if tuple(tensor.shape) != tuple(shape):
        raise StepFailure("shape", f"{label} returned a tensor of shape {tuple(tensor.shape)}; "
                                   f"expected {tuple(shape)}{meaning}")


def forward_method(model):
    """The model's own forward (for telling a skeleton stub from a missing return)."""
    return type(model).__dict__.get("forward")


def run_model(ctx, model, label: str, x):
    """The model's computation on ``x`` as the course version has it (``forward``,
    or ``run`` in the earlier handout): (output tensor, 'models.X.forward')."""
    name = f"{label}.{ctx.interface.method(model)}"
    output = ctx.call(name, ctx.interface.output(model), x)
    return expect_tensor(output, name, ctx.interface.source(model)), name


def loss_sanity(ctx, model, model_label: str, loss_name: str, x, y,
                output_shape: tuple) -> dict:
    """Run model and loss once on (x, y), with gradients for x.

    Returns the facts the judge needs: the output and loss shapes, whether the loss is
    finite, whether it depends on x (a non-zero gradient), and whether it depends on
    y, decided by value: the same predictions with other labels give another loss
    (so a loss written with ``y.argmax(dim=1)``, which has no gradient for y, counts).
    """
    import torch
    x = torch.tensor(np.asarray(x), dtype=torch.float32, requires_grad=True)
    y = torch.tensor(np.asarray(y), dtype=torch.float32)
    loss_label, make_loss, source = ctx.interface.loss(ctx, model, loss_name)
    loss_fn = make_loss(x)
    output, name = run_model(ctx, model, model_label, x)
    expect_shape(output, output_shape, name)
    loss = expect_tensor(ctx.call(loss_label, loss_fn, output, y), loss_label, source)
    if loss.numel() != 1:
        raise StepFailure("shape", f"{loss_label} returned {loss.numel()} numbers (shape "
                                   f"{tuple(loss.shape)}); a loss is a single number: "
                                   "average over the batch")
    if not loss.requires_grad:
        raise StepFailure("graph", f"{loss_label} returned a loss that is not connected "
                                   "to the model (no gradient can flow back); avoid .item(), "
                                   ".detach(), numpy or creating new tensors from values")
    (grad_x,) = ctx.call(f"backpropagating through {loss_label}", torch.autograd.grad,
                         loss, [x], allow_unused=True)
    return {
        "output_shape": list(output.shape),
        "loss_value": _number_of(loss),
        "depends_on_x": grad_x is not None and bool(torch.any(grad_x != 0)),
        "depends_on_y": _depends_on_labels(ctx, loss_fn, loss_label, output.detach(), y),
    }


def _number_of(loss) -> float:
    return float(loss.detach().reshape(-1)[0])


def other_labels(y):
    """Labels that differ from ``y`` in every row: one-hot rows move to the next
    class; other targets move by 1."""
    import torch
    one_hot = (y.dim() == 2 and y.shape[1] > 1 and bool(((y == 0) | (y == 1)).all())
               and bool((y.sum(dim=1) == 1).all()))
    return torch.roll(y, 1, dims=1) if one_hot else y + 1.0


def _depends_on_labels(ctx, loss_fn, loss_label: str, output, y) -> bool:
    """Whether the loss changes when only the labels change, for the model's own
    predictions or, should those give every label the same loss (e.g. equal
    scores for every class), for random ones."""
    import torch
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for predictions in (output, torch.randn(output.shape, generator=generator)):
            values = []
            for labels in (y, other_labels(y)):
                loss = expect_tensor(ctx.call(loss_label, loss_fn, predictions, labels),
                                     loss_label, loss_fn)
                values.append(_number_of(loss))
            if not math.isclose(values[0], values[1], rel_tol=1e-6, abs_tol=1e-9):
                return True
    return False


def build_model_and_dataset(ctx, model_name: str, dataset_name: str,
                            dataset_options: dict | None = None):
    """The student's ``models.<model_name>()`` and
    ``backend.<dataset_name>(model, **dataset_options)``, built fresh.

    Every step builds its own: the model a training step trains has seen nothing
    before (no sanity forward that could move a BatchNorm's statistics), and the
    step's seed is set just before, so training runs exactly as in a student's own
    script that seeds torch, builds the model and the dataset, then trains."""
    import backend
    models = ctx.student("models")
    model = ctx.call(f"models.{model_name}()", ctx.lookup(models, model_name))
    dataset = ctx.call(f"backend.{dataset_name}", getattr(backend, dataset_name), model,
                       **(dataset_options or {}))
    return model, dataset


def train_watched(ctx, record, model, dataset, train_name: str,
                  note_inputs: bool = False) -> None:
    """Run the student's training (``train.<train_name>(model, dataset)``, or the
    model's own ``train(dataset)`` in the earlier handout) with the live plot on (if
    asked for) and progress observed, and record whether training changed any
    weight."""
    label, train_function = ctx.interface.training(ctx, model, train_name)
    before = parameters_snapshot(model)
    with ctx.training(dataset, record, model if note_inputs else None):
        ctx.call(label, train_function, model, dataset)
    record["parameters_changed"] = parameters_changed(model, before)


def parameters_snapshot(model) -> list:
    return [p.detach().clone() for p in model.parameters()]


def parameters_changed(model, before: list) -> bool:
    import torch
    after = list(model.parameters())
    return len(after) != len(before) or any(
        a.shape != b.shape or not torch.equal(a.detach(), b) for a, b in zip(after, before))


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


class Withheld:
    """Stands in for test labels inside the sandbox: the judge keeps them, and
    using them (for training or for printing a test score) is a clear error."""

    def __init__(self, name: str):
        self._name = name

    def _refuse(self, *args, **kwargs):
        raise StepFailure("withheld", f"dataset.{self._name} is kept by the autograder while "
                                      "it grades (the test split is scored by the grader). "
                                      "Use dataset.get_validation_accuracy() (the dev split) "
                                      "to follow training instead.")

    def __getattr__(self, name: str):
        # Python's own protocol lookups (copy.deepcopy asks for __deepcopy__, pickle
        # for __reduce_ex__...) get the usual AttributeError; any other use refuses.
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        self._refuse()

    __getitem__ = __len__ = __iter__ = __array__ = __eq__ = __ne__ = _refuse
    __float__ = __int__ = __bool__ = _refuse


# ------------------------------------------------------------------ judge side


def sanity_verdict(v, expected_shapes: list[list[int]]) -> CheckResult:
    """Pass when every probe of the check's step had the expected output shape and a
    finite, single-number loss that depends on both x and y."""
    result = v.step()
    if result is None or not result.ok:
        return v.missing()
    probes = result.values.get("probes")
    if not isinstance(probes, list) or len(probes) != len(expected_shapes):
        return v.failed("the sanity checks did not report their results")
    for facts, shape in zip(probes, expected_shapes):
        if not isinstance(facts, dict) or facts.get("output_shape") != shape:
            return v.failed(f"expected output shape {tuple(shape)}")
        if not is_finite(facts.get("loss_value")):
            return v.failed(f"the loss is {facts.get('loss_value')} (not a finite number) for "
                            f"a batch of {shape[0]} with a freshly built model")
        if facts.get("depends_on_x") is not True:
            return v.failed("the loss does not depend on the input x: is the model's output "
                            "used to compute it?")
        if facts.get("depends_on_y") is not True:
            return v.failed("the loss does not depend on the labels y: are they passed to the "
                            "loss function?")
    return v.passed("output shapes and loss gradients are as expected")


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
                        "learning rate too high?)", metric=0.0)
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
    if v.outcome.stopped == "timeout" and v.check.key in v.outcome.started:
        hint = hints.endless_loop_hint(v.outcome.progress, v.settings["min_accuracy"])
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
    message = (f"{measured} (required: {threshold:.0%})"
               + _training_notes(v.step().values) + advice)
    if accuracy >= threshold:
        return v.passed(message, metric=accuracy)
    return v.failed(message, metric=accuracy)


def test_accuracy_verdict(v, labels: np.ndarray, what: str) -> CheckResult:
    """``accuracy_verdict`` for the logits of the judge's test inputs."""
    accuracy = measure_accuracy(v, labels, what)
    if isinstance(accuracy, CheckResult):
        return accuracy
    predicted = v.outcome.array(v.check.key, "logits").argmax(axis=1)
    return accuracy_verdict(v, accuracy, f"test accuracy {accuracy:.2%} on {len(labels)} {what}",
                            accuracy_hints(v, accuracy, what, predicted))


def _training_notes(values: dict) -> str:
    if values.get("parameters_changed") is False:
        return ("\ntraining did not change any of the model's weights: is the training "
                "function still the skeleton, or is optimizer.step() missing?")
    return ""


def is_finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
