"""q3: digit classification (MNIST). Also the shared steps of q5.

The sandbox trains on the student's dataset object, whose test labels are withheld;
it then scores the judge's test images, sent in an order the judge chose, and the
judge compares the predicted digits with its own labels.
"""

from __future__ import annotations

import numpy as np

from grader.questions.common import (Withheld, accuracy_verdict, build_model_and_dataset,
                                     loss_sanity, predict_in_chunks, sanity_verdict,
                                     train_watched)

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

def train_and_predict(ctx, record, state: dict, *, model_name: str, dataset_name: str,
                      train_name: str) -> None:
    """Build (unless the sanity step did), train with the student's ``train_name``
    while the test labels are withheld, and save scores for the judge's images."""
    if "dataset" not in state:
        state["model"], state["dataset"] = build_model_and_dataset(ctx, model_name, dataset_name)
    model, dataset = state["model"], state["dataset"]
    dataset.test_labels = Withheld("test_labels")
    train_watched(ctx, record, model, dataset, train_name)
    record.save("logits", predict_in_chunks(ctx, model, f"models.{model_name}",
                                            ctx.probes["images"], 10))


def run_in_sandbox(ctx) -> None:
    state = {}
    names = {"model_name": "DigitClassificationModel",
             "dataset_name": "DigitClassificationDataset"}

    def sanity(record):
        model, dataset = build_model_and_dataset(ctx, **names)
        state.update(model=model, dataset=dataset)
        loss = ctx.lookup(ctx.student("losses"), "digitclassifier_loss")
        record["probes"] = [
            loss_sanity(ctx, model, "models.DigitClassificationModel", loss,
                        "losses.digitclassifier_loss", dataset.x[:n], dataset.y[:n], (n, 10))
            for n in SANITY_BATCHES]

    def train(record):
        train_and_predict(ctx, record, state, train_name="train_digitclassifier", **names)

    ctx.run_step("sanity", sanity, budget=ctx.job["sanity_seconds"])
    ctx.run_step("train", train)


# -------------------------------------------------------------------- judge side

def score(question, outcome, probes, data) -> list:
    sanity, accuracy = question.checks
    return [sanity_verdict(question, sanity, outcome, "sanity",
                           [[n, 10] for n in SANITY_BATCHES]),
            accuracy_verdict(question, accuracy, outcome, "train", probes["_labels"],
                             "test digits")]
