"""q3: digit classification (MNIST). Also the shared steps of q5.

The sandbox trains on the student's dataset object, whose test labels are withheld;
it then scores the judge's test images, sent in an order the judge chose, and the
judge compares the predicted digits with its own labels.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.course import splits
from grader.checks.classifier import Withheld, predict_in_chunks, test_accuracy_verdict
from grader.checks.figure_data import first_layer_weight, save_validation_history
from grader.checks.loss_checks import loss_sanity, sanity_verdict
from grader.checks.training import build_model_and_dataset, train_watched
from grader.core.wiring import Definition, Probes

QUESTION = Definition(
    figure_plan="grader.assignments.course.figure_plans:digits")
SANITY_BATCHES = (1, 2, 4)
MODEL, DATASET = "DigitClassificationModel", "DigitClassificationDataset"


def mnist_test_probes(rng: np.random.Generator, data, count: int | None = None) -> Probes:
    """The datasets' test half of MNIST's test set, shuffled; the labels stay with
    the judge."""
    mnist = data.arrays("mnist.npz")
    rows = splits.MNIST_TEST_ROWS
    images, labels = mnist["test_images"][rows], mnist["test_labels"][rows]
    if count is not None:
        images, labels = images[:count], labels[:count]
    order = rng.permutation(len(images))
    return Probes(public={"images": images[order].astype(np.float32) / np.float32(255)},
                  secret={"labels": labels[order].astype(np.int64)})


def training_digit_probes(rng: np.random.Generator, data, count: int) -> Probes:
    """The first ``count`` MNIST training digits (q5's subset), shuffled; the labels
    stay with the judge."""
    mnist = data.arrays("mnist.npz")
    order = rng.permutation(count)
    return Probes(public={"images": mnist["train_images"][:count][order].astype(np.float32)
                          / np.float32(255)},
                  secret={"labels": mnist["train_labels"][:count][order].astype(np.int64)})


@QUESTION.probes()
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    return mnist_test_probes(rng, data)


# ------------------------------------------------------------------ sandbox side

def train_and_predict(ctx, record, *, model_name: str, dataset_name: str, train_name: str,
                      dataset_options: dict | None = None,
                      also_predict: tuple[str, ...] = ()) -> None:
    """Train with the student's ``train_name`` while the test labels are withheld,
    and save scores for the judge's images (``images`` as ``logits``, and each probe
    ``<name>_images`` in ``also_predict`` as ``<name>_logits``)."""
    model, dataset = build_model_and_dataset(ctx, model_name, dataset_name, dataset_options)
    ctx.keep(model=model, dataset=dataset)
    dataset.test_labels = Withheld("test_labels")
    train_watched(ctx, record, model, dataset, train_name)
    for probe in ("images", *also_predict):
        record.save(probe.replace("images", "logits"),
                    predict_in_chunks(ctx, model, f"models.{model_name}", ctx.probes[probe], 10))


@QUESTION.step("sanity", budgeted=True)
def sanity(ctx, record):
    model, dataset = build_model_and_dataset(ctx, MODEL, DATASET)
    record["probes"] = [
        loss_sanity(ctx, model, f"models.{MODEL}", "digitclassifier_loss",
                    dataset.x[:n], dataset.y[:n], (n, 10))
        for n in SANITY_BATCHES]


@QUESTION.step("train")
def train(ctx, record):
    train_and_predict(ctx, record, model_name=MODEL, dataset_name=DATASET,
                      train_name="train_digitclassifier")


@QUESTION.figure_data_step()
def figure_data(ctx, record):
    """The validation accuracies the student's code asked for, and the first
    layer's weights when it is a Linear(784, k) (drawn as 28x28 templates)."""
    save_validation_history(record, ctx.kept.get("dataset"))
    model = ctx.kept.get("model")
    first_layer = first_layer_weight(model, 28 * 28) if model is not None else None
    if first_layer is not None:
        record.save("first_layer", first_layer[0])
        record.save("first_layer_units", np.array(first_layer[1]))


# -------------------------------------------------------------------- judge side

@QUESTION.verdict("sanity")
def judge_sanity(v):
    return sanity_verdict(v, [[n, 10] for n in SANITY_BATCHES])


@QUESTION.verdict("train", reads=("min_accuracy",))
def judge_accuracy(v):
    return test_accuracy_verdict(v, v.secret["labels"], "test digits")
