"""q4 of "first networks": a fully connected network on standardised MNIST, its
periodic evaluation, and its mistakes.

The sandbox standardises the images with the training set's statistics (the judge's
own, so that q3 costs only q3), builds ``Tensors`` datasets of (image, label) pairs,
60000 training images and the 5000 test images students may use, and trains
``DigitNet()`` with the student's ``train_mnist(model, train_data, test_data)``.
It then predicts the other 5000 test images, whose labels the judge keeps.

Periodic evaluation: ``train_mnist`` returns (or prints, as ``[epoch][batch] -> x%
training accuracy y% testing accuracy``) its history. While it trains, the sandbox
notes every prediction the model makes on test images (its forward is watched, not
changed): a run of such predictions is one evaluation on the test set. The judge
computes each evaluation's accuracy from its own labels, and every reported testing
accuracy must be one of them, in order. An accuracy measured on training batches and
reported as the testing accuracy matches none.

Mistakes: ``misclassified(model, images, labels)`` must return the rows the trained
model gets wrong; the judge compares them with the model's own predictions.
"""

from __future__ import annotations

import re

import numpy as np

from grader.checks.classifier import accuracy_hints, accuracy_verdict, measure_accuracy
from grader.checks.training import parameters_changed, parameters_snapshot
from grader.checks.values import as_numbers, expect_filled
from grader.core.source import StepFailure
from grader.core.wiring import Definition, Probes

QUESTION = Definition(figure_plan="grader.assignments.first_networks.figure_plans:digits")
MODULE, MODEL = "mnist_linear", "DigitNet"
# MNIST's test digits: students evaluate on the even rows, the judge scores the odd.
YOURS, GRADED = slice(0, None, 2), slice(1, None, 2)
HISTORY_LINE = re.compile(r"\[\s*(\d+)\s*\]\s*\[\s*(\d+)\s*\]\s*->\s*([\d.]+)\s*%\s*training"
                          r"\s+accuracy\s+([\d.]+)\s*%\s*testing\s+accuracy")


@QUESTION.probes(reads=("mistake_images",))
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    mnist = data.arrays("mnist.npz")
    train = mnist["train_images"].reshape(len(mnist["train_images"]), -1).astype(np.float64)
    mean, std = train.mean(), train.std()
    test = mnist["test_images"].reshape(len(mnist["test_images"]), -1)

    def scaled(images):
        return ((images.astype(np.float64) - mean) / std).astype(np.float32)

    graded, labels = test[GRADED], mnist["test_labels"][GRADED].astype(np.int64)
    order = rng.permutation(len(graded))
    yours = test[YOURS][:settings["mistake_images"]]
    return Probes(public={"images": scaled(graded[order]), "mean": np.float64(mean),
                          "std": np.float64(std), "mistake_images": scaled(yours),
                          "mistake_labels": mnist["test_labels"][YOURS][
                              :settings["mistake_images"]].astype(np.int64)},
                  secret={"labels": labels[order]})


# ------------------------------------------------------------------ sandbox side

class EvaluationWatch:
    """Wraps the model class's ``forward`` while training runs and notes, for each
    call whose rows are test images students may use, which rows and what the model
    predicted: consecutive such calls are one evaluation. The output is returned
    unchanged, so training runs as in the student's own script."""

    def __init__(self, model, test_images: np.ndarray):
        self.cls = type(model)
        self.rows = {row.tobytes(): index for index, row in enumerate(test_images)}
        # One list per evaluation, of (rows, predictions) arrays, one pair per call.
        self.evaluations: list[list[tuple[np.ndarray, np.ndarray]]] = []
        self._in_evaluation = False

    def __enter__(self):
        watch, original = self, self.cls.forward
        self._own = "forward" in self.cls.__dict__   # else inherited: put nothing back

        def forward(model, x, *args, **kwargs):
            output = original(model, x, *args, **kwargs)
            watch._note(x, output)
            return output

        self._original, self.cls.forward = original, forward
        return self

    def __exit__(self, *exc):
        if self._own:
            self.cls.forward = self._original
        else:
            del self.cls.forward
        return False

    def _note(self, x, output) -> None:
        import torch
        try:
            flat = x.detach().to("cpu", torch.float32).reshape(len(x), -1).numpy()
            predicted = output.detach().reshape(len(x), -1).argmax(dim=1).cpu().numpy()
        except Exception:  # noqa: BLE001 - an odd call is the student's business, not a test
            self._in_evaluation = False
            return
        found = [self.rows.get(row.tobytes()) for row in flat]
        if any(index is None for index in found):     # training rows: not an evaluation
            self._in_evaluation = False
            return
        if not self._in_evaluation:
            self.evaluations.append([])
            self._in_evaluation = True
        self.evaluations[-1].append((np.array(found, np.int64), predicted.astype(np.int64)))


def datasets(ctx):
    """(train_data, test_data, test images) standardised with the judge's statistics."""
    import torch

    import first_networks_data  # the assignment's support module, loaded by the sandbox
    (train_x, train_y), (test_x, test_y) = first_networks_data.load_mnist()
    mean, std = float(ctx.probes["mean"]), float(ctx.probes["std"])

    def scaled(images):
        flat = images.reshape(len(images), -1).to(torch.float64)
        return ((flat - mean) / std).to(torch.float32)

    test = scaled(test_x)
    return (first_networks_data.Tensors(scaled(train_x), train_y),
            first_networks_data.Tensors(test, test_y), test.numpy())


@QUESTION.step("train")
def train(ctx, record):
    from grader.checks.classifier import predict_in_chunks
    model = ctx.call(f"{MODULE}.{MODEL}()", ctx.lookup(ctx.student(MODULE), MODEL))
    train_data, test_data, test_images = datasets(ctx)
    trainer = expect_filled(ctx.lookup(ctx.student(MODULE), "train_mnist"),
                            f"{MODULE}.train_mnist")
    before = parameters_snapshot(model)
    with ctx.training(train_data, record), EvaluationWatch(model, test_images) as watch:
        history = ctx.call(f"{MODULE}.train_mnist", trainer, model, train_data, test_data)
    record["parameters_changed"] = parameters_changed(model, before)
    ctx.shared.update(model=model, history=history, evaluations=watch.evaluations)
    ctx.keep(model=model)
    record.save("logits", predict_in_chunks(ctx, model, f"{MODULE}.{MODEL}",
                                            ctx.probes["images"], 10))


@QUESTION.step("history")
def history(ctx, record):
    if "evaluations" not in ctx.shared:
        raise StepFailure("not_run", "not run: training did not finish (see above)")
    evaluations = ctx.shared["evaluations"]
    record["evaluations"] = len(evaluations)
    calls = [call for evaluation in evaluations for call in evaluation]
    if calls:
        record.save("rows", np.concatenate([rows for rows, _ in calls]))
        record.save("predicted", np.concatenate([predicted for _, predicted in calls]))
        record.save("call_sizes", np.array([len(rows) for rows, _ in calls], np.int64))
        record.save("calls", np.array([len(evaluation) for evaluation in evaluations], np.int64))
    returned = ctx.shared["history"]
    record["returned"] = None if returned is None else type(returned).__name__
    if returned is not None:
        try:
            entries = [[float(value) for value in entry] for entry in returned]
        except (TypeError, ValueError):
            entries = None
        if entries is None or any(len(entry) != 4 for entry in entries):
            raise StepFailure("type", f"{MODULE}.train_mnist returned {type(returned).__name__}"
                                      " that is not its history: a list of (epoch, batch, "
                                      "training accuracy, testing accuracy) tuples")
        if entries:
            record.save("entries", np.array(entries, dtype=np.float64))


@QUESTION.step("mistakes", budgeted=True)
def mistakes(ctx, record):
    import torch

    from grader.core.model_calls import evaluating
    if "model" not in ctx.shared:
        raise StepFailure("not_run", "not run: the network was not trained (see above)")
    model = ctx.shared["model"]
    images = torch.from_numpy(ctx.probes["mistake_images"].copy())
    labels = torch.from_numpy(ctx.probes["mistake_labels"].copy())
    function = ctx.lookup(ctx.student(MODULE), "misclassified")
    with evaluating(model):
        found = ctx.call(f"{MODULE}.misclassified", function, model, images, labels)
        with torch.no_grad():
            scores = ctx.call(f"{MODULE}.{MODEL}.forward", model, images)
    indices = as_numbers(found, f"{MODULE}.misclassified", whole=True, function=function)
    record.save("indices", indices.astype(np.int64).reshape(-1))
    record.save("scores", as_numbers(scores, f"{MODULE}.{MODEL}.forward").astype(np.float32))


# -------------------------------------------------------------------- judge side

@QUESTION.verdict("train", reads=("min_accuracy",))
def judge_train(v):
    labels = v.secret["labels"]
    accuracy = measure_accuracy(v, labels, "test digits")
    if not isinstance(accuracy, float):
        return accuracy
    predicted = v.outcome.array("train", "logits").argmax(axis=1)
    return accuracy_verdict(v, accuracy, f"accuracy {accuracy:.2%} on {len(labels)} test "
                                         "digits your code never saw",
                            accuracy_hints(v, accuracy, "test digits", predicted))


def reported_history(v) -> np.ndarray | None:
    """(entries, 4): what train_mnist returned, else the lines it printed."""
    entries = v.outcome.array("history", "entries")
    if entries is not None:
        return entries
    printed = HISTORY_LINE.findall(v.outcome.output.kept)
    return np.array(printed, dtype=np.float64).reshape(-1, 4) if printed else None


def measured_accuracies(v) -> list[tuple[float, float]]:
    """For each evaluation on test_data the sandbox saw, in order, its accuracy in
    percent over all the rows it predicted, and the mean of its calls' accuracies
    (a student may average batch by batch), from the judge's labels."""
    rows, predicted = v.outcome.array("history", "rows"), v.outcome.array("history", "predicted")
    sizes, calls = v.outcome.array("history", "call_sizes"), v.outcome.array("history", "calls")
    if any(array is None for array in (rows, predicted, sizes, calls)) or sizes.sum() != len(rows) \
            or calls.sum() != len(sizes) or len(rows) != len(predicted):
        return []
    labels = v.data.arrays("mnist.npz")["test_labels"][YOURS].astype(np.int64)
    if rows.min(initial=0) < 0 or rows.max(initial=0) >= len(labels):
        return []
    right = predicted == labels[rows]
    per_call = np.split(right, np.cumsum(sizes)[:-1])
    measured, start = [], 0
    for count in calls:
        these = per_call[start:start + count]
        start += count
        measured.append((100 * float(np.concatenate(these).mean()),
                         100 * float(np.mean([call.mean() for call in these]))))
    return measured


@QUESTION.verdict("history", reads=("history_tolerance",))
def judge_history(v):
    result = v.step()
    if result is None or not result.ok:
        return v.missing()
    entries = reported_history(v)
    if entries is None or len(entries) == 0:
        return v.failed("train_mnist returned no history and printed none: return the list of "
                        "(epoch, batch, training accuracy, testing accuracy) of its periodic "
                        "evaluations (or print them as [epoch][batch] -> x% training accuracy "
                        "y% testing accuracy)")
    if entries.ndim != 2 or entries.shape[1] != 4:
        return v.failed(f"train_mnist's history has entries of {entries.shape[-1]} numbers; "
                        "each must be (epoch, batch, training accuracy, testing accuracy)")
    reported = entries[:, 3] * (100 if np.all(entries[:, 2:] <= 1) else 1)   # in percent
    measured = measured_accuracies(v)
    if not measured:
        return v.failed("the reported testing accuracies were not measured on test_data: the "
                        "model never saw a test image while train_mnist ran (evaluate it on "
                        "test_data, not on training batches)")
    tolerance, next_one = v.settings["history_tolerance"], 0
    for number, value in enumerate(reported):
        match = next((i for i in range(next_one, len(measured))
                      if any(abs(m - value) <= tolerance for m in measured[i])), None)
        if match is None:
            near = min((m for pair in measured[next_one:] for m in pair),
                       key=lambda m: abs(m - value), default=None)
            seen = f"; the nearest evaluation on test_data measured {near:.2f}%" \
                if near is not None else ""
            return v.failed(f"history entry {number + 1} reports {value:.2f}% testing accuracy, "
                            f"which no evaluation of the model on test_data gave{seen}. Is the "
                            "testing accuracy measured on training batches?", metric=0.0)
        next_one = match + 1
    return v.passed(f"{len(entries)} evaluations, each testing accuracy measured on test_data "
                    f"as reported (the last {reported[-1]:.2f}%)")


@QUESTION.verdict("mistakes")
def judge_mistakes(v):
    found, scores = v.outcome.array("mistakes", "indices"), v.outcome.array("mistakes", "scores")
    labels = v.probes["mistake_labels"]
    if found is None or scores is None:
        return v.missing()
    if scores.shape != (len(labels), 10):
        return v.failed(f"{MODEL} gave scores of shape {scores.shape} for {len(labels)} images; "
                        f"expected ({len(labels)}, 10)")
    expected = np.flatnonzero(scores.argmax(axis=1) != labels)
    found = np.sort(found)
    if np.array_equal(found, expected):
        return v.passed(f"the {len(expected)} misclassified rows of {len(labels)}")
    extra = sorted(set(found.tolist()) - set(expected.tolist()))
    missed = sorted(set(expected.tolist()) - set(found.tolist()))
    if len(set(found.tolist())) != len(found):
        return v.failed("misclassified returned some rows twice; each wrong row once")
    detail = []
    if extra:
        detail.append(f"{len(extra)} it predicts right (e.g. row {extra[0]})")
    if missed:
        detail.append(f"misses {len(missed)} it gets wrong (e.g. row {missed[0]})")
    return v.failed(f"misclassified returned {len(found)} rows where the model gets "
                    f"{len(expected)} wrong: {' and '.join(detail)}. Compare the argmax of the "
                    "model's scores with the labels, row by row")
