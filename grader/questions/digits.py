"""q3: digit classification (MNIST). Also the shared steps of q5.

The sandbox trains on the student's dataset object, whose test labels are withheld;
it then scores the judge's test images, sent in an order the judge chose, and the
judge compares the predicted digits with its own labels.
"""

from __future__ import annotations

import numpy as np

from grader.questions.common import (Withheld, accuracy_verdict, loss_sanity,
                                     parameters_changed, parameters_snapshot,
                                     predict_in_chunks, sanity_verdict)

SANITY_BATCHES = (1, 2, 4)


def mnist_test_probes(rng: np.random.Generator, data, count: int | None = None) -> dict:
    """The odd rows of MNIST's test set (the datasets' test half), shuffled; the
    labels stay with the judge under '_labels'."""
    mnist = data.arrays("mnist.npz")
    images, labels = mnist["test_images"][1::2], mnist["test_labels"][1::2]
    if count is not None:
        images, labels = images[:count], labels[:count]
    order = rng.permutation(len(images))
    return {"images": (images[order].astype(np.float32) / np.float32(255)),
            "_labels": labels[order].astype(np.int64)}


def make_probes(rng: np.random.Generator, data) -> dict[str, np.ndarray]:
    return mnist_test_probes(rng, data)


# ------------------------------------------------------------------ sandbox side

def train_and_predict(ctx, record, state: dict, *, train_name: str, model_label: str) -> None:
    """Train the model in ``state`` with the student's ``train_name`` and save its
    scores for the judge's images."""
    model, dataset = state["model"], state["dataset"]
    train_function = ctx.lookup(ctx.student("train", optional=("losses",)), train_name)
    dataset.test_labels = Withheld("test_labels")
    before = parameters_snapshot(model)
    ctx.watch(dataset)
    try:
        ctx.call(f"train.{train_name}", train_function, model, dataset)
    finally:
        ctx.unwatch(dataset)
    record["parameters_changed"] = parameters_changed(model, before)
    record.save("logits", predict_in_chunks(ctx, model, model_label, ctx.probes["images"], 10))


def build(ctx, state: dict, model_name: str, dataset_name: str) -> None:
    import backend
    models = ctx.student("models")
    ctx.student("losses")
    model = ctx.call(f"models.{model_name}()", ctx.lookup(models, model_name))
    state["model"] = model
    state["dataset"] = ctx.call(f"backend.{dataset_name}", getattr(backend, dataset_name), model)


def run_in_sandbox(ctx) -> None:
    state = {}
    label = "models.DigitClassificationModel"

    def sanity(record):
        build(ctx, state, "DigitClassificationModel", "DigitClassificationDataset")
        loss = ctx.lookup(ctx.student("losses"), "digitclassifier_loss")
        dataset = state["dataset"]
        record["probes"] = [
            loss_sanity(ctx, state["model"], label, loss, "losses.digitclassifier_loss",
                        dataset.x[:n], dataset.y[:n], (n, 10))
            for n in SANITY_BATCHES]

    def train(record):
        if "dataset" not in state:
            build(ctx, state, "DigitClassificationModel", "DigitClassificationDataset")
        train_and_predict(ctx, record, state, train_name="train_digitclassifier",
                          model_label=label)

    ctx.run_step("sanity", sanity, budget=ctx.job["sanity_seconds"])
    ctx.run_step("train", train)


# -------------------------------------------------------------------- judge side

def score(question, outcome, probes, data) -> list:
    sanity, accuracy = question.checks
    return [sanity_verdict(question, sanity, outcome, "sanity",
                           [[n, 10] for n in SANITY_BATCHES]),
            accuracy_verdict(question, accuracy, outcome, "train", probes["_labels"],
                             "test digits")]
