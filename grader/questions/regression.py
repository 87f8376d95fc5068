"""q2: non-linear regression of sin(x) on [-2pi, 2pi].

The judge scores predictions at x values it chose: the 200 training points and as
many new ones, so a model that memorised its training pairs (or a lookup table)
does not pass. It computes the mean squared error itself.
"""

from __future__ import annotations

import numpy as np

from grader.questions.common import (build_model_and_dataset, loss_sanity, predict_in_chunks,
                                     sanity_verdict, train_watched)
from grader.results import failed, passed
from grader.student_code import StepFailure

SANITY_BATCHES = (1, 2, 4)
TRAINING_POINTS = 200


def make_probes(rng: np.random.Generator, data) -> dict[str, np.ndarray]:
    grid = np.linspace(-2 * np.pi, 2 * np.pi, TRAINING_POINTS)[:, None]
    fresh = rng.uniform(-2 * np.pi, 2 * np.pi, (TRAINING_POINTS, 1))
    return {"x": np.vstack([grid, fresh]).astype(np.float32)}


# ------------------------------------------------------------------ sandbox side

def run_in_sandbox(ctx) -> None:
    state = {}

    def sanity(record):
        model, dataset = build_model_and_dataset(ctx, "RegressionModel", "RegressionDataset")
        state.update(model=model, dataset=dataset)
        loss = ctx.lookup(ctx.student("losses"), "regression_loss")
        record["probes"] = [
            loss_sanity(ctx, model, "models.RegressionModel", loss, "losses.regression_loss",
                        dataset.x[:n], dataset.y[:n], (n, 1))
            for n in SANITY_BATCHES]

    def train(record):
        import torch
        if "dataset" not in state:
            state["model"], state["dataset"] = build_model_and_dataset(
                ctx, "RegressionModel", "RegressionDataset")
        model = state["model"]
        train_watched(ctx, record, model, state["dataset"], "train_regression")
        x = ctx.probes["x"]
        record.save("predictions", predict_in_chunks(ctx, model, "models.RegressionModel", x, 1))
        parameters = [p for p in model.parameters() if p.requires_grad]
        if not parameters:
            raise StepFailure("parameters", "models.RegressionModel has no trainable "
                                            "parameters: create Linear layers in __init__")
        output = ctx.call("models.RegressionModel.forward", model, torch.from_numpy(x))
        grads = torch.autograd.grad(output.sum(), parameters, allow_unused=True)
        record["depends_on_parameters"] = any(g is not None and bool(torch.any(g != 0))
                                              for g in grads)

    ctx.run_step("sanity", sanity, budget=ctx.job["sanity_seconds"])
    ctx.run_step("train", train)


# -------------------------------------------------------------------- judge side

def score(question, outcome, probes, data) -> list:
    sanity, fit = question.checks
    expected_shapes = [[n, 1] for n in SANITY_BATCHES]
    return [sanity_verdict(question, sanity, outcome, "sanity", expected_shapes),
            _score_fit(question, fit, outcome, probes)]


def _score_fit(question, check, outcome, probes):
    result = outcome.step("train")
    predictions = outcome.array("train", "predictions")
    if result is None or not result.ok or predictions is None:
        return failed(question, check, outcome.why_missing("train"))
    x = probes["x"].astype(np.float64)
    if predictions.shape != x.shape:
        return failed(question, check, f"expected predictions of shape {x.shape}, got "
                                       f"{predictions.shape}")
    if not np.isfinite(predictions).all():
        return failed(question, check, "the trained model predicts NaN or infinity (is the "
                                       "learning rate too high?)")
    if result.values.get("depends_on_parameters") is not True:
        return failed(question, check, "the model's predictions do not depend on its "
                                       "parameters: the output must come from its layers")
    limit = question.thresholds["max_mse"]
    mse = float(np.mean((predictions.astype(np.float64) - np.sin(x)) ** 2))
    message = (f"mean squared error {mse:.5f} on {len(x)} points: the {TRAINING_POINTS} "
               f"training x and {len(x) - TRAINING_POINTS} new x in [-2pi, 2pi] "
               f"(required: at most {limit:g})")
    if result.values.get("parameters_changed") is False:
        message += "\ntraining did not change any weight: is train_regression still the skeleton?"
    if mse <= limit:
        return passed(question, check, message, metric=mse)
    return failed(question, check, message, metric=mse)
