"""q2: non-linear regression of sin(x) on [-2pi, 2pi].

The judge scores the writeup's criterion: the mean squared error over the dataset's
200 points. A separate guard asks for predictions at as many new x in the same
range, with a bound no honest smooth fit comes near, so that a lookup table of the
training pairs does not pass. The judge computes both errors itself.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.course import splits
from grader.checks import hints
from grader.checks.classifier import predict_in_chunks
from grader.checks.loss_checks import loss_sanity, sanity_verdict
from grader.checks.training import build_model_and_dataset, train_watched
from grader.checks.values import run_model
from grader.core.results import LOSS, Measured
from grader.core.source import StepFailure
from grader.core.wiring import Definition, Probes

QUESTION = Definition(
    figure_plan="grader.assignments.course.figure_plans:regression")
SANITY_BATCHES = (1, 2, 4)
MODEL = "models.RegressionModel"


@QUESTION.probes(reads=("fresh_points",))
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    grid = np.linspace(*splits.REGRESSION_RANGE, splits.REGRESSION_POINTS)[:, None]
    fresh = rng.uniform(*splits.REGRESSION_RANGE, (settings["fresh_points"], 1))
    return Probes(public={"x": np.vstack([grid, fresh]).astype(np.float32)})


# ------------------------------------------------------------------ sandbox side

@QUESTION.step("sanity", budgeted=True)
def sanity(ctx, record):
    model, dataset = build_model_and_dataset(ctx, "RegressionModel", "RegressionDataset")
    record["probes"] = [
        loss_sanity(ctx, model, MODEL, "regression_loss", dataset.x[:n], dataset.y[:n], (n, 1))
        for n in SANITY_BATCHES]


@QUESTION.step("train")
def train(ctx, record):
    import torch
    model, dataset = build_model_and_dataset(ctx, "RegressionModel", "RegressionDataset")
    train_watched(ctx, record, model, dataset, "train_regression")
    x = ctx.probes["x"]
    record.save("predictions", predict_in_chunks(ctx, model, MODEL, x, 1))
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise StepFailure("parameters", "models.RegressionModel has no trainable "
                                        "parameters: create Linear layers in __init__")
    output, name = run_model(ctx, model, MODEL, torch.from_numpy(x))
    depends = False
    if output.requires_grad:   # no graph at all (e.g. a .detach()) depends on nothing
        grads = ctx.call(f"backpropagating through {name}", torch.autograd.grad,
                         output.sum(), parameters, allow_unused=True)
        depends = any(g is not None and bool(torch.any(g != 0)) for g in grads)
    record["depends_on_parameters"] = depends


# -------------------------------------------------------------------- judge side

@QUESTION.verdict("sanity")
def judge_sanity(v):
    return sanity_verdict(v, [[n, 1] for n in SANITY_BATCHES])


@QUESTION.verdict("train", reads=("max_mse", "max_fresh_mse"))
def judge_fit(v):
    result = v.step()
    predictions = v.outcome.array("train", "predictions")
    if result is None or not result.ok or predictions is None:
        return v.missing()
    x = v.probes["x"].astype(np.float64)
    if predictions.shape != x.shape:
        return v.failed(f"expected predictions of shape {x.shape}, got {predictions.shape}")
    if not np.isfinite(predictions).all():
        seen = hints.training_hint(result.values.get("training"))
        return v.failed("the trained model predicts NaN or infinity (is the learning rate "
                        "too high?)" + (f"\nHint: {seen}" if seen else ""))
    if result.values.get("depends_on_parameters") is not True:
        return v.failed("the model's predictions do not depend on its parameters: the output "
                        "must come from its layers")
    errors = (predictions.astype(np.float64) - np.sin(x)) ** 2
    grid = splits.REGRESSION_POINTS
    mse, fresh_mse = float(np.mean(errors[:grid])), float(np.mean(errors[grid:]))
    limit, fresh_limit = v.settings["max_mse"], v.settings["max_fresh_mse"]
    message = (f"mean squared error {mse:.5f} on the dataset's {grid} points (required: at "
               f"most {limit:g}); {fresh_mse:.5f} on {len(x) - grid} new x in [-2pi, 2pi]")
    if result.values.get("parameters_changed") is False:
        message += "\ntraining did not change any weight: is train_regression still the skeleton?"
    figure = Measured(mse, LOSS, at_most=limit)
    if mse > limit:
        training = result.values.get("training")
        advice = [hints.never_negative_hint(predictions[:grid], np.sin(x[:grid])),
                  hints.training_hint(training)]
        return v.failed(message + "".join(f"\nHint: {a}" for a in advice if a), metric=figure)
    if fresh_mse > fresh_limit:
        return v.failed(message + (
            f"\nthe model fits the dataset's points but not new x between them: the guard "
            f"against lookup tables and memorising requires at most {fresh_limit:g} on new x "
            "(a smooth fit of sin(x) passes it easily)"), metric=figure)
    return v.passed(message, metric=figure)
