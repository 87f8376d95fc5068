"""q2c, q2d, q2e and q3g of "depth-width": networks under limits, trained by the
student's ``train_model(model, train_data)``.

Every limit is read from the model and from the training the sandbox saw, never
from what the student says:

- limits (before any training): the layer types (only those the problem allows),
  the hidden units (the output sizes of every Linear but the last), the hidden
  layers, the parameters (every parameter's number of elements, as the problem's
  sample code counts them) and the layers the model must have (a Dropout and a
  BatchNorm2d for q3g), read from its module tree (grader/checks/model_tree.py);
  the model must be a ``Sequential`` and give (B, 10) scores for (B, 1, 28, 28)
  images. A model over a limit is not trained: its accuracy earns nothing.
- training (q3g, grader/assignments/depth_width/questions/cnn_network.py): the epochs
  and the batch size, counted from the batches whose loss ``backward()`` was called
  on (their size is the size of the input the model was last given with gradients
  on), so evaluation batches do not count; an epoch is a pass over the distinct
  images those batches hold (grader/checks/training.py), not over all of train_data;
- accuracy: on 5000 MNIST test digits the student's code never sees.
"""

from __future__ import annotations

import numpy as np

from grader.checks import model_tree
from grader.checks.classifier import accuracy_verdict, measure_accuracy, predict_in_chunks
from grader.checks.values import expect_filled, expect_shape, expect_tensor
from grader.core.source import StepFailure
from grader.core.wiring import Definition, Probes

QUESTION = Definition()
MODULE = "networks"
GRADED = slice(1, None, 2)      # MNIST's odd test rows: scored here, never shown
LIMITS = ("function", "allowed", "max_hidden_units", "min_hidden_layers", "max_parameters",
          "required")


@QUESTION.probes()
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    mnist = data.arrays("mnist.npz")
    images, labels = mnist["test_images"][GRADED], mnist["test_labels"][GRADED]
    order = rng.permutation(len(images))
    return Probes(public={"images": (images[order].astype(np.float32) / np.float32(255))
                          .reshape(-1, 1, 28, 28)},
                  secret={"labels": labels[order].astype(np.int64)})


def limit_problems(layers: list[dict], parameters: int, sequential: bool, settings) -> list[str]:
    """Every limit of ``settings`` that the model (its ``layers`` and ``parameters``,
    as the sandbox read them) breaks, as sentences naming the count, the limit and
    the layers."""
    problems = []
    if not sequential:
        problems.append("the model is not a torch.nn.Sequential: build it with "
                        "nn.Sequential(...), as the problem asks")
    forbidden = model_tree.forbidden(layers, set(settings["allowed"]))
    if forbidden:
        problems.append(f"only {', '.join(settings['allowed'])} layers are allowed; the model "
                        f"has {', '.join(forbidden)}")
    hidden = model_tree.hidden_units(layers)
    limit = settings["max_hidden_units"]
    if limit is not None and sum(hidden) > limit:
        sizes = " + ".join(str(size) for size in hidden)
        problems.append(f"the model has {sum(hidden)} hidden units ({sizes}: the output sizes "
                        f"of every Linear but the last), more than the {limit} allowed")
    layers_needed = settings["min_hidden_layers"]
    if layers_needed and len(hidden) < layers_needed:
        problems.append(f"the model has {len(hidden)} hidden layer(s); at least "
                        f"{layers_needed} are required")
    most = settings["max_parameters"]
    if most is not None and parameters >= most:
        problems.append(f"the model has {parameters:,} parameters; fewer than {most:,} are "
                        "allowed (counted as the sample code counts them: every parameter's "
                        "number of elements)")
    present = {str(layer.get("type")) for layer in layers if layer.get("custom") is False}
    for required in settings["required"]:
        if required not in present:
            problems.append(f"the model has no {required} layer; at least one is required")
    return problems


# ------------------------------------------------------------------ sandbox side

def build(ctx):
    function = ctx.lookup(ctx.student(MODULE), ctx.settings["function"])
    label = f"{MODULE}.{ctx.settings['function']}()"
    model = ctx.call(label, function)
    import torch
    if model is None:
        expect_tensor(model, label, function)        # None: says whether it is the skeleton
    if not isinstance(model, torch.nn.Module):
        raise StepFailure("type", f"{label} returned {type(model).__name__}; expected a "
                                  "torch.nn.Sequential")
    return model, label


def describe_model(ctx, record, model) -> tuple[list[dict], int, bool]:
    import torch
    layers = model_tree.layers(model)
    parameters = model_tree.parameter_count(model)
    sequential = isinstance(model, torch.nn.Sequential)
    record.update(layers=layers, parameters=parameters, sequential=sequential)
    return layers, parameters, sequential


@QUESTION.step("limits", budgeted=True, reads=LIMITS)
def limits(ctx, record):
    import torch

    from grader.core.model_calls import evaluating
    model, label = build(ctx)
    describe_model(ctx, record, model)
    x = torch.from_numpy(ctx.probes["images"][:2].copy())
    with evaluating(model), torch.no_grad():
        output = expect_tensor(ctx.call(f"{label}(x)", model, x), f"{label}(x)")
    expect_shape(output, (2, 10), f"{label}(x)", " (ten scores per image)")


class TrainingBatches:
    """Notes the size of each batch whose loss training calls ``backward()`` on: the
    size of the input the model was last given with gradients on (a forward under
    ``no_grad`` is no training step). With ``rows`` (a ``TrainedRows``) it also counts
    that input's distinct rows, so that epochs are counted over the images trained on.
    It only looks."""

    def __init__(self, model, rows=None):
        self.model, self.rows, self.sizes, self._last = model, rows, [], None

    def __enter__(self):
        import torch
        watch, backward = self, torch.Tensor.backward

        def observed(tensor, *args, **kwargs):
            if watch._last is not None:
                watch.sizes.append(int(watch._last.shape[0]))
                if watch.rows is not None:
                    watch.rows.add(watch._last)
            return backward(tensor, *args, **kwargs)

        def before_forward(module, args):
            if (torch.is_grad_enabled() and args and hasattr(args[0], "shape")
                    and len(args[0].shape) > 0):
                watch._last = args[0]

        self._backward, torch.Tensor.backward = backward, observed
        self._hook = self.model.register_forward_pre_hook(before_forward)
        return self

    def __exit__(self, *exc):
        import torch
        torch.Tensor.backward = self._backward
        self._hook.remove()
        self._last = None
        return False


@QUESTION.step("accuracy", reads=LIMITS)
def accuracy(ctx, record):
    train_and_predict(ctx, record)


def train_and_predict(ctx, record, count_rows: bool = False) -> None:
    """Train the model within its limits with the student's ``train_model`` on MNIST's
    training digits, noting its batches (and, with ``count_rows``, the distinct images
    trained on), then record its scores for the graded digits."""
    import depth_width_data  # the assignment's support module, loaded by the sandbox

    from grader.checks.training import TrainedRows
    model, label = build(ctx)
    layers, parameters, sequential = describe_model(ctx, record, model)
    if limit_problems(layers, parameters, sequential, ctx.settings):
        raise StepFailure("limits", "not trained: the model breaks the problem's limits "
                                    "(see the check above)")
    trainer = expect_filled(ctx.lookup(ctx.student(MODULE), "train_model"),
                            f"{MODULE}.train_model")
    train_data, _ = depth_width_data.load_mnist()
    rows = TrainedRows() if count_rows else None
    with ctx.training(train_data, record, model), TrainingBatches(model, rows) as batches:
        ctx.call(f"{MODULE}.train_model", trainer, model, train_data)
    record["batch_sizes"] = batches.sizes
    record["training_items"] = len(train_data)
    if rows is not None:
        record["trained_rows"] = rows.recurrence()
    record.save("logits", predict_in_chunks(ctx, model, label, ctx.probes["images"], 10))


# -------------------------------------------------------------------- judge side

def _problems(v, values: dict) -> list[str]:
    return limit_problems(values.get("layers") or [], int(values.get("parameters") or 0),
                          values.get("sequential") is True, v.settings)


def _limits_verdict(v, values: dict):
    problems = _problems(v, values)
    shown = ", ".join(model_tree.describe(layer) for layer in values.get("layers") or [])
    if problems:
        return v.failed("; ".join(problems) + f".\nThe model: {shown}")
    parameters = f"{int(values.get('parameters') or 0):,} parameters"
    if v.settings["max_hidden_units"] is None:      # a parameter budget (the CNN): no units
        return v.passed(f"{shown}: {parameters}")
    hidden = model_tree.hidden_units(values.get("layers") or [])
    return v.passed(f"{shown}: {sum(hidden)} hidden units in {len(hidden)} hidden layer(s), "
                    f"{parameters}")


@QUESTION.verdict("limits", reads=LIMITS)
def judge_limits(v):
    result = v.step()
    if result is None or "layers" not in result.values:
        return v.missing()
    verdict = _limits_verdict(v, result.values)
    if result.ok or verdict.points == 0:   # broken limits, even if the model cannot run
        return verdict
    return v.missing()


@QUESTION.verdict("accuracy", reads=(*LIMITS, "min_accuracy"))
def judge_accuracy(v):
    result = v.step()
    if result is not None and result.ok and _problems(v, result.values):
        return v.failed("not graded: the trained model breaks the problem's limits")
    accuracy = measure_accuracy(v, v.secret["labels"], "test digits")
    if not isinstance(accuracy, float):
        return accuracy
    layers = result.values.get("layers") or []
    advice = ""
    if accuracy < v.settings["min_accuracy"] and layers and layers[-1].get("type") == "Softmax":
        advice = ("\nHint: the model ends in Softmax, and cross_entropy applies log-softmax "
                  "again: that trains badly. Leave the Softmax out while training (the "
                  "scores' argmax is the same), or train with NLLLoss on torch.log of its "
                  "output")
    return accuracy_verdict(v, accuracy, f"test accuracy {accuracy:.2%} on "
                                         f"{len(v.secret['labels'])} test digits", advice)
