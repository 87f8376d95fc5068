"""q4 of "mlp-from-scratch": the confusion matrix.

``confusion_matrix(model, images, labels)`` returns the 10x10 counts of a model's
predictions, one row per true digit and one column per predicted digit. The sandbox
calls it with the student's own MLP, holding weights the judge chose, on validation
images the judge chose (their digits as ``labels``); the judge computes the expected
matrix from that same model's ``forward`` on those images.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.mlp_from_scratch.questions.common import (
    MLP_MODULE,
    PARAMETERS,
    SHAPES,
    new_mlp,
    predicted_scores,
)
from grader.checks.classifier import confusion_matrix
from grader.checks.values import as_numbers
from grader.core.wiring import Definition, Probes

QUESTION = Definition()


@QUESTION.probes(reads=("images",))
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    mnist = data.arrays("mnist.npz")
    rows = 50000 + rng.choice(10000, size=settings["images"], replace=False)  # validation
    # Weights that predict every digit now and then: larger than a fresh network's.
    weights = {name: rng.normal(0, 1.0, shape) for name, shape in SHAPES.items()}
    images = mnist["train_images"][rows].reshape(len(rows), -1)
    return Probes(public={"images": images.astype(np.float64) / 255,
                          "labels": mnist["train_labels"][rows].astype(np.int64), **weights})


@QUESTION.step("confusion", budgeted=True)
def confusion(ctx, record):
    model = new_mlp(ctx, {name: ctx.probes[name] for name in PARAMETERS})
    function = ctx.lookup(ctx.student(MLP_MODULE), "confusion_matrix")
    images, labels = ctx.probes["images"], ctx.probes["labels"]
    found = ctx.call("mlp.confusion_matrix", function, model, images.copy(), labels.copy())
    record.save("matrix", as_numbers(found, "mlp.confusion_matrix", whole=True,
                                     function=function).astype(np.int64))
    record.save("scores", predicted_scores(ctx, model, images, "mlp.MLP.forward"))


@QUESTION.verdict("confusion")
def judge_confusion(v):
    found, scores = v.outcome.array("confusion", "matrix"), v.outcome.array("confusion", "scores")
    if found is None or scores is None:
        return v.missing()
    labels = v.probes["labels"]
    expected = confusion_matrix(labels, scores.argmax(axis=1), 10)
    if found.shape != (10, 10):
        return v.failed(f"confusion_matrix returned shape {found.shape}; expected (10, 10): one "
                        "row per true digit, one column per predicted digit")
    if np.array_equal(found, expected):
        return v.passed(f"the 10x10 counts of {len(labels)} images, rows the true digits")
    if np.array_equal(found, expected.T):
        return v.failed("confusion_matrix is transposed: rows must be the true digits and "
                        "columns the predicted ones")
    if found.sum() != len(labels):
        return v.failed(f"confusion_matrix counts {found.sum()} predictions for "
                        f"{len(labels)} images: each image counts once")
    row, column = np.unravel_index(np.argmax(np.abs(found - expected)), found.shape)
    return v.failed(f"confusion_matrix differs from the model's predictions: cell (true "
                    f"{row}, predicted {column}) is {found[row, column]}, expected "
                    f"{expected[row, column]}")
