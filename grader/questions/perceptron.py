"""q1: the perceptron.

Judge: picks weights and points; the sandbox sets those weights into the student's
model and reports scores, predictions and trained weights; the judge computes the
expected values and the training accuracy itself.
"""

from __future__ import annotations

import numpy as np

from grader.questions.common import expect_tensor, forward_method
from grader.results import failed, passed
from grader.student_code import StepFailure

DIMENSIONS = range(1, 10)
MULTIPLIERS = (-5.0, -2.0, 2.0, 5.0)   # |m| > 1: one update (or none) then converged
UPDATE_ROWS = 500
TRAINING_POINTS = 500


def make_probes(rng: np.random.Generator, data) -> dict[str, np.ndarray]:
    probes = {}
    for d in DIMENSIONS:
        probes[f"w{d}"] = rng.uniform(-3, 3, (1, d)).astype(np.float32)
        probes[f"x{d}"] = rng.uniform(-10, 10, (1, d)).astype(np.float32)
    probes["update_w"] = rng.uniform(0.5, 2, (len(MULTIPLIERS), 2)).astype(np.float32) \
        * rng.choice([-1, 1], (len(MULTIPLIERS), 2)).astype(np.float32)
    points = np.hstack([rng.standard_normal((TRAINING_POINTS, 2)), np.ones((TRAINING_POINTS, 1))])
    probes["train_x"] = points.astype(np.float32)
    probes["train_y"] = np.where(points[:, 0] + 2 * points[:, 1] - 1 >= 0, 1.0, -1.0)[:, None] \
        .astype(np.float32)
    return probes


# ------------------------------------------------------------------ sandbox side

def _build(ctx, dimensions: int, weights: np.ndarray | None = None):
    """A PerceptronModel(dimensions) whose single Parameter holds ``weights`` (if
    given; otherwise the model keeps its own starting weights)."""
    import torch
    models = ctx.student("models")
    model = ctx.call(f"models.PerceptronModel({dimensions})",
                     ctx.lookup(models, "PerceptronModel"), dimensions)
    parameters = list(model.parameters())
    if not parameters:
        raise StepFailure("parameters", f"PerceptronModel({dimensions}) has no Parameter: "
                                        "__init__ must create the weights, e.g. self.w = "
                                        f"Parameter(ones(1, {dimensions})) (is it still the "
                                        "skeleton?)")
    if len(parameters) != 1 or tuple(parameters[0].shape) != (1, dimensions):
        shapes = [tuple(p.shape) for p in parameters]
        raise StepFailure("parameters", f"PerceptronModel({dimensions}) has parameters of "
                                        f"shapes {shapes}; it should have exactly one, the "
                                        f"weight Parameter of shape (1, {dimensions}) "
                                        "(self.w = Parameter(...) in __init__)")
    weight = ctx.call("models.PerceptronModel.get_weights", model.get_weights)
    if weight is not parameters[0]:
        raise StepFailure("get_weights", "PerceptronModel.get_weights() must return the "
                                         "model's weight Parameter itself (self.w)")
    if weights is not None:
        with torch.no_grad():
            weight.copy_(torch.from_numpy(weights))
    return model


def _number(value, label: str, method=None) -> float:
    if not isinstance(value, (int, float)):
        value = expect_tensor(value, label, method)
        if value.numel() != 1:
            raise StepFailure("shape", f"{label} returned {value.numel()} numbers (shape "
                                       f"{tuple(value.shape)}) for one point; expected one")
        value = value.detach().reshape(-1)[0].item()
    return float(value)


def _sanity(ctx, record) -> None:
    import torch
    scores, predictions, zero_predictions = [], [], []
    for d in DIMENSIONS:
        model = _build(ctx, d, ctx.probes[f"w{d}"])
        point = torch.from_numpy(ctx.probes[f"x{d}"])                     # (1, d)
        scores.append(_number(ctx.call("models.PerceptronModel.forward", model, point),
                              "models.PerceptronModel.forward", forward_method(model)))
        get_prediction = type(model).__dict__.get("get_prediction")
        for target, x in ((predictions, point), (zero_predictions, torch.zeros_like(point))):
            target.append(_number(ctx.call("models.PerceptronModel.get_prediction",
                                           model.get_prediction, x),
                                  "models.PerceptronModel.get_prediction", get_prediction))
    record.update(scores=scores, predictions=predictions, zero_predictions=zero_predictions)


def _update(ctx, record) -> None:
    import backend
    train = ctx.student("train", optional=("losses",))
    train_perceptron = ctx.lookup(train, "train_perceptron")
    trained = []
    for multiplier, start in zip(MULTIPLIERS, ctx.probes["update_w"]):
        model = _build(ctx, 2, start[None, :])
        point = multiplier * start[None, :]
        dataset = backend.Custom_Dataset(np.tile(point, (UPDATE_ROWS, 1)),
                                         -np.ones((UPDATE_ROWS, 1)))
        ctx.call("train.train_perceptron", train_perceptron, model, dataset)
        trained.append(model.get_weights().detach().reshape(-1).tolist())
    record["weights"] = trained


def _converge(ctx, record) -> None:
    import backend
    train = ctx.student("train", optional=("losses",))
    train_perceptron = ctx.lookup(train, "train_perceptron")
    model = _build(ctx, 3)
    dataset = ctx.call("backend.PerceptronDataset", backend.PerceptronDataset, model)
    dataset.x, dataset.y = ctx.probes["train_x"], ctx.probes["train_y"]
    ctx.watch(dataset)
    try:
        ctx.call("train.train_perceptron", train_perceptron, model, dataset)
    finally:
        ctx.unwatch(dataset)
    record["items_read"] = dataset.epoch
    record.save("weights", model.get_weights().detach().float().numpy())


def run_in_sandbox(ctx) -> None:
    budget = ctx.job["sanity_seconds"]
    ctx.run_step("sanity", lambda record: _sanity(ctx, record), budget=budget)
    ctx.run_step("update", lambda record: _update(ctx, record), budget=budget)
    ctx.run_step("converge", lambda record: _converge(ctx, record))


# -------------------------------------------------------------------- judge side

def score(question, outcome, probes, data) -> list:
    sanity, update, converge = question.checks
    return [_score_sanity(question, sanity, outcome, probes),
            _score_update(question, update, outcome, probes),
            _score_converge(question, converge, outcome, probes)]


def _score_sanity(question, check, outcome, probes):
    result = outcome.step("sanity")
    if result is None or not result.ok:
        return failed(question, check, outcome.why_missing("sanity"))
    values = result.values
    lists = [values.get(key) for key in ("scores", "predictions", "zero_predictions")]
    if not all(isinstance(v, list) and len(v) == len(DIMENSIONS) for v in lists):
        return failed(question, check, "the sanity checks did not report their results")
    tolerance = question.thresholds["weight_tolerance"]
    for d, score, prediction, zero in zip(DIMENSIONS, *lists):
        w, x = probes[f"w{d}"].astype(np.float64), probes[f"x{d}"].astype(np.float64)
        expected = float((w @ x.T)[0, 0])
        if not np.isclose(score, expected, rtol=tolerance, atol=tolerance):
            return failed(question, check, f"with weights {np.round(w, 3).tolist()}, forward on "
                                           f"the point {np.round(x, 3).tolist()} returned "
                                           f"{score:.4f}; the dot product is {expected:.4f}")
        want = 1.0 if expected >= 0 else -1.0
        if prediction != want:
            return failed(question, check, f"get_prediction returned {prediction:g} for a point "
                                           f"with score {expected:.4f}; expected {want:g}")
        if zero != 1.0:
            return failed(question, check, f"get_prediction returned {zero:g} for a point with "
                                           "score exactly 0; expected 1 (a score >= 0 means 1)")
    return passed(question, check, "one (1, d) weight Parameter; scores and predictions correct")


def _score_update(question, check, outcome, probes):
    result = outcome.step("update")
    if result is None or not result.ok:
        return failed(question, check, outcome.why_missing("update"))
    weights = result.values.get("weights")
    if not isinstance(weights, list) or len(weights) != len(MULTIPLIERS):
        return failed(question, check, "the update check did not report its results")
    tolerance = question.thresholds["weight_tolerance"]
    for multiplier, start, got in zip(MULTIPLIERS, probes["update_w"], weights):
        start = start.astype(np.float64)
        point = multiplier * start
        # Every point is labelled -1: a point on the positive side is a mistake,
        # corrected by w <- w + (-1) * point, after which all points are right.
        expected = start if multiplier < 0 else start - point
        if len(got) != 2 or not np.allclose(got, expected, rtol=tolerance, atol=tolerance):
            return failed(question, check, (
                f"starting from weights {np.round(start, 4).tolist()} and training on copies "
                f"of the point {np.round(point, 4).tolist()} labelled -1, the weights became "
                f"{np.round(got, 4).tolist()}; expected {np.round(expected, 4).tolist()} "
                "(a mistake on (x, y) adds y * x to the weights; a correct point changes nothing)"))
    return passed(question, check, "weights change by y * x on mistakes only")


def _score_converge(question, check, outcome, probes):
    result = outcome.step("converge")
    weights = outcome.array("converge", "weights")
    if result is None or not result.ok or weights is None:
        return failed(question, check, outcome.why_missing("converge"))
    if weights.shape != (1, 3) or not np.isfinite(weights).all():
        return failed(question, check, f"the trained weights have shape {weights.shape} or are "
                                       "not finite; expected finite (1, 3) weights")
    if not result.values.get("items_read"):
        return failed(question, check, "train_perceptron never read the dataset: loop over a "
                                       "DataLoader built from it", metric=0.0)
    x, y = probes["train_x"].astype(np.float64), probes["train_y"]
    accuracy = float(np.mean(np.where(x @ weights.T.astype(np.float64) >= 0, 1.0, -1.0) == y))
    required = question.thresholds["training_accuracy"]
    message = (f"{accuracy:.2%} of the {len(x)} training points classified correctly "
               f"(required: {required:.0%})")
    if accuracy >= required:
        return passed(question, check, message, metric=accuracy)
    return failed(question, check, message + "; keep looping until a full pass makes no "
                                             "mistakes", metric=accuracy)
