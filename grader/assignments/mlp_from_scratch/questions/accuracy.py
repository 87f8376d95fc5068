"""q3 (the MLP) and q5 (the CNN) of "mlp-from-scratch": test accuracy on a scale.

The sandbox trains a fresh network with the student's ``train_mlp(model, dataset)``
(or ``train_cnn``) on the project's Digits, whose test labels it withholds, then
predicts the 10000 test images in an order the judge chose. The judge scores the
predictions against its labels: full points at the mark (90% for the MLP, 98% for
the CNN), one point less per percentage point below it down to the floor (70%,
78%), and one point of extra credit per percentage point above it.

Both questions share this module; each names its settings in the table (``model``,
``mark``, ``floor``...). ``--save-plots`` draws the test confusion matrix, the
accuracy the student's code measured during training and, for the MLP, the first
layer's 64 templates.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.mlp_from_scratch.questions.common import (
    CNN_MODULE,
    MLP_MODULE,
    digits_withheld,
    new_mlp,
    predicted_scores,
)
from grader.checks.classifier import extra_credit_above, measure_accuracy, points_on_scale
from grader.checks.values import as_numbers, expect_filled
from grader.core.results import FRACTION, Measured
from grader.core.source import StepFailure
from grader.core.wiring import Definition, Probes

QUESTION = Definition(figure_plan="grader.assignments.mlp_from_scratch.figure_plans:accuracy")
SETTINGS = ("network", "mark", "floor", "extra_most")


@QUESTION.probes()
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    mnist = data.arrays("mnist.npz")
    order = rng.permutation(len(mnist["test_images"]))
    images = mnist["test_images"][order].reshape(len(order), -1)
    return Probes(public={"images": images.astype(np.float32) / np.float32(255)},
                  secret={"labels": mnist["test_labels"][order].astype(np.int64)})


# ------------------------------------------------------------------ sandbox side

def _cnn_scores(ctx, model, images: np.ndarray) -> np.ndarray:
    import torch

    from grader.core.model_calls import evaluating
    scores = []
    with evaluating(model), torch.no_grad():
        for start in range(0, len(images), 1000):
            batch = torch.from_numpy(images[start:start + 1000].reshape(-1, 1, 28, 28).copy())
            found = as_numbers(ctx.call("cnn.CNN.forward", model, batch), "cnn.CNN.forward")
            if found.shape != (len(batch), 10):
                raise StepFailure("shape", f"cnn.CNN.forward returned shape {found.shape} for "
                                           f"{len(batch)} images; expected ({len(batch)}, 10)")
            scores.append(found.astype(np.float32))
    return np.concatenate(scores)


@QUESTION.step("accuracy", reads=("network",))
def train(ctx, record):
    network = ctx.settings["network"]
    if network == "mlp":
        model = new_mlp(ctx)
        trainer = ctx.lookup(ctx.student(MLP_MODULE), "train_mlp")
        label = "mlp.train_mlp"
    else:
        model = ctx.call("cnn.CNN()", ctx.lookup(ctx.student(CNN_MODULE), "CNN"))
        trainer = ctx.lookup(ctx.student(CNN_MODULE), "train_cnn")
        label = "cnn.train_cnn"
    expect_filled(trainer, label)
    dataset = digits_withheld(ctx)
    ctx.keep(model=model, dataset=dataset)
    with ctx.training(dataset, record):
        ctx.call(label, trainer, model, dataset)
    images = ctx.probes["images"]
    scores = predicted_scores(ctx, model, images, "mlp.MLP.forward") if network == "mlp" \
        else _cnn_scores(ctx, model, images)
    record.save("logits", scores.astype(np.float32))
    record["history"] = [[int(i), str(split), float(value)]
                         for i, split, value in list(getattr(dataset, "history", []))[-2000:]]


@QUESTION.step("above")
def above(ctx, record):
    """Nothing more to run: the extra credit is read from the same predictions."""


@QUESTION.figure_data_step()
def figure_data(ctx, record):
    """The MLP's first layer (its 64 rows of W1), drawn as 28x28 templates."""
    model = ctx.kept.get("model")
    weights = getattr(model, "W1", None)
    if isinstance(weights, np.ndarray) and weights.shape == (64, 784):
        record.save("templates", weights.astype(np.float64))


# -------------------------------------------------------------------- judge side

@QUESTION.verdict("accuracy", reads=SETTINGS)
def judge_accuracy(v):
    accuracy = measure_accuracy(v, v.secret["labels"], "test images")
    if not isinstance(accuracy, float):
        return accuracy
    mark, floor = v.settings["mark"], v.settings["floor"]
    points = points_on_scale(accuracy, mark, floor, v.check.points)
    scale = (f"(full points at {mark:.0%}, one less per percentage point below it, none at "
             f"{floor:.0%} or below)")
    return v.scored(points, f"test accuracy {accuracy:.2%} on {len(v.secret['labels'])} test "
                            f"images {scale}",
                    metric=Measured(accuracy, FRACTION, at_least=mark))


@QUESTION.verdict("above", reads=("mark", "extra_most"))
def judge_above(v):
    logits = v.outcome.array("accuracy", "logits")
    labels = v.secret["labels"]
    if logits is None or logits.shape != (len(labels), 10) or not np.isfinite(logits).all():
        return v.failed("no extra credit: the test accuracy could not be measured (see above)")
    accuracy = float(np.mean(logits.argmax(axis=1) == labels))
    extra = extra_credit_above(accuracy, v.settings["mark"], v.settings["extra_most"])
    return v.scored(extra, f"{extra:.2f} point(s) of extra credit: one per percentage point "
                           f"above {v.settings['mark']:.0%}",
                    metric=Measured(accuracy, FRACTION))
