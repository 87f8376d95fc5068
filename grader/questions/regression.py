"""q2: non-linear regression of sin(x) on [-2pi, 2pi].

The judge scores predictions at x values it chose: the 200 training points and as
many new ones, so a model that memorised its training pairs (or a lookup table)
does not pass. It computes the mean squared error itself.
"""

from __future__ import annotations

import numpy as np

from grader import splits
from grader.questions.common import (expect_tensor, forward_method, loss_sanity,
                                     model_and_dataset, predict_in_chunks, sanity_verdict,
                                     train_watched)
from grader.student_code import StepFailure
from grader.wiring import Definition, Probes

QUESTION = Definition()
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
    model, dataset = model_and_dataset(ctx, "RegressionModel", "RegressionDataset")
    loss = ctx.lookup(ctx.student("losses"), "regression_loss")
    record["probes"] = [
        loss_sanity(ctx, model, MODEL, loss, "losses.regression_loss", dataset.x[:n],
                    dataset.y[:n], (n, 1))
        for n in SANITY_BATCHES]


@QUESTION.step("train")
def train(ctx, record):
    import torch
    model, dataset = model_and_dataset(ctx, "RegressionModel", "RegressionDataset")
    train_watched(ctx, record, model, dataset, "train_regression")
    x = ctx.probes["x"]
    record.save("predictions", predict_in_chunks(ctx, model, MODEL, x, 1))
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise StepFailure("parameters", "models.RegressionModel has no trainable "
                                        "parameters: create Linear layers in __init__")
    output = expect_tensor(ctx.call(f"{MODEL}.forward", model, torch.from_numpy(x)),
                           f"{MODEL}.forward", forward_method(model))
    depends = False
    if output.requires_grad:   # no graph at all (e.g. a .detach()) depends on nothing
        grads = ctx.call(f"backpropagating through {MODEL}.forward", torch.autograd.grad,
                         output.sum(), parameters, allow_unused=True)
        depends = any(g is not None and bool(torch.any(g != 0)) for g in grads)
    record["depends_on_parameters"] = depends


# -------------------------------------------------------------------- judge side

@QUESTION.verdict("sanity")
def judge_sanity(v):
    return sanity_verdict(v, [[n, 1] for n in SANITY_BATCHES])


@QUESTION.verdict("train", reads=("max_mse",))
def judge_fit(v):
    result = v.step()
    predictions = v.outcome.array("train", "predictions")
    if result is None or not result.ok or predictions is None:
        return v.missing()
    x = v.probes["x"].astype(np.float64)
    if predictions.shape != x.shape:
        return v.failed(f"expected predictions of shape {x.shape}, got {predictions.shape}")
    if not np.isfinite(predictions).all():
        return v.failed("the trained model predicts NaN or infinity (is the learning rate "
                        "too high?)")
    if result.values.get("depends_on_parameters") is not True:
        return v.failed("the model's predictions do not depend on its parameters: the output "
                        "must come from its layers")
    limit = v.settings["max_mse"]
    mse = float(np.mean((predictions.astype(np.float64) - np.sin(x)) ** 2))
    grid = splits.REGRESSION_POINTS
    message = (f"mean squared error {mse:.5f} on {len(x)} points: the {grid} training x and "
               f"{len(x) - grid} new x in [-2pi, 2pi] (required: at most {limit:g})")
    if result.values.get("parameters_changed") is False:
        message += "\ntraining did not change any weight: is train_regression still the skeleton?"
    if mse <= limit:
        return v.passed(message, metric=mse)
    return v.failed(message, metric=mse)
