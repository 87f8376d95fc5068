"""q1: the perceptron.

Judge: picks weights and points; the sandbox sets those weights into the student's
model and reports scores, predictions and trained weights; the judge computes the
expected values and the training accuracy itself.
"""

from __future__ import annotations

import numpy as np

from grader import splits
from grader.questions.common import expect_tensor, forward_method
from grader.student_code import StepFailure
from grader.wiring import Definition, Probes

QUESTION = Definition()

DIMENSIONS = range(1, 10)
MULTIPLIERS = (-5.0, -2.0, 2.0, 5.0)   # |m| > 1: one update (or none) then converged
UPDATE_ROWS = 500


@QUESTION.probes()
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    probes = {}
    for d in DIMENSIONS:
        probes[f"w{d}"] = rng.uniform(-3, 3, (1, d)).astype(np.float32)
        probes[f"x{d}"] = rng.uniform(-10, 10, (1, d)).astype(np.float32)
    probes["update_w"] = rng.uniform(0.5, 2, (len(MULTIPLIERS), 2)).astype(np.float32) \
        * rng.choice([-1, 1], (len(MULTIPLIERS), 2)).astype(np.float32)
    count = splits.PERCEPTRON_POINTS
    points = np.hstack([rng.standard_normal((count, 2)), np.ones((count, 1))])
    probes["train_x"] = points.astype(np.float32)
    probes["train_y"] = np.where(points[:, 0] + 2 * points[:, 1] - 1 >= 0, 1.0, -1.0)[:, None] \
        .astype(np.float32)
    return Probes(public=probes)


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


@QUESTION.step("sanity", budgeted=True)
def sanity(ctx, record) -> None:
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


@QUESTION.step("update", budgeted=True)
def update(ctx, record) -> None:
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
        trained.append(_weights(ctx, model).reshape(-1).tolist())
    record["weights"] = trained


def _weights(ctx, model) -> np.ndarray:
    """The model's weights after training, as a float64 array."""
    weight = ctx.call("models.PerceptronModel.get_weights", model.get_weights)
    return expect_tensor(weight, "models.PerceptronModel.get_weights").detach().double().numpy()


@QUESTION.step("converge")
def converge(ctx, record) -> None:
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
    record.save("weights", _weights(ctx, model).astype(np.float32))


# -------------------------------------------------------------------- judge side

@QUESTION.verdict("sanity", reads=("weight_tolerance",))
def judge_sanity(v):
    result, probes = v.step(), v.probes
    if result is None or not result.ok:
        return v.missing()
    lists = [result.values.get(key) for key in ("scores", "predictions", "zero_predictions")]
    if not all(isinstance(found, list) and len(found) == len(DIMENSIONS) for found in lists):
        return v.failed("the sanity checks did not report their results")
    tolerance = v.settings["weight_tolerance"]
    for d, score, prediction, zero in zip(DIMENSIONS, *lists):
        w, x = probes[f"w{d}"].astype(np.float64), probes[f"x{d}"].astype(np.float64)
        expected = float((w @ x.T)[0, 0])
        if not np.isclose(score, expected, rtol=tolerance, atol=tolerance):
            return v.failed(f"with weights {np.round(w, 3).tolist()}, forward on the point "
                            f"{np.round(x, 3).tolist()} returned {score:.4f}; the dot product "
                            f"is {expected:.4f}")
        want = 1.0 if expected >= 0 else -1.0
        if prediction != want:
            return v.failed(f"get_prediction returned {prediction:g} for a point with score "
                            f"{expected:.4f}; expected {want:g}")
        if zero != 1.0:
            return v.failed(f"get_prediction returned {zero:g} for a point with score exactly "
                            "0; expected 1 (a score >= 0 means 1)")
    return v.passed("one (1, d) weight Parameter; scores and predictions correct")


@QUESTION.verdict("update", reads=("weight_tolerance",))
def judge_update(v):
    result = v.step()
    if result is None or not result.ok:
        return v.missing()
    weights = result.values.get("weights")
    if not isinstance(weights, list) or len(weights) != len(MULTIPLIERS):
        return v.failed("the update check did not report its results")
    tolerance = v.settings["weight_tolerance"]
    for multiplier, start, got in zip(MULTIPLIERS, v.probes["update_w"], weights):
        start = start.astype(np.float64)
        point = multiplier * start
        # Every point is labelled -1: a point on the positive side is a mistake,
        # corrected by w <- w + (-1) * point, after which all points are right.
        expected = start if multiplier < 0 else start - point
        if len(got) != 2 or not np.allclose(got, expected, rtol=tolerance, atol=tolerance):
            return v.failed(
                f"starting from weights {np.round(start, 4).tolist()} and training on copies "
                f"of the point {np.round(point, 4).tolist()} labelled -1, the weights became "
                f"{np.round(got, 4).tolist()}; expected {np.round(expected, 4).tolist()} "
                "(a mistake on (x, y) adds y * x to the weights; a correct point changes nothing)")
    return v.passed("weights change by y * x on mistakes only")


@QUESTION.verdict("converge", reads=("training_accuracy",))
def judge_converge(v):
    result = v.step()
    weights = v.outcome.array("converge", "weights")
    if result is None or not result.ok or weights is None:
        return v.missing()
    if weights.shape != (1, 3) or not np.isfinite(weights).all():
        return v.failed(f"the trained weights have shape {weights.shape} or are not finite; "
                        "expected finite (1, 3) weights")
    if not result.values.get("items_read"):
        return v.failed("train_perceptron never read the dataset: loop over a DataLoader "
                        "built from it", metric=0.0)
    x, y = v.probes["train_x"].astype(np.float64), v.probes["train_y"]
    accuracy = float(np.mean(np.where(x @ weights.T.astype(np.float64) >= 0, 1.0, -1.0) == y))
    required = v.settings["training_accuracy"]
    message = (f"{accuracy:.2%} of the {len(x)} training points classified correctly "
               f"(required: {required:.0%})")
    if accuracy >= required:
        return v.passed(message, metric=accuracy)
    return v.failed(message + "; keep looping until a full pass makes no mistakes",
                    metric=accuracy)
