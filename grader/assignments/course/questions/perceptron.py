"""q1: the perceptron.

Judge: picks weights and points; the sandbox sets those weights into the student's
model and reports scores, predictions and trained weights; the judge computes the
expected values and the training accuracy itself.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.course import splits
from grader.checks.values import expect_tensor
from grader.core.results import FRACTION, Measured
from grader.core.source import StepFailure, StopStudentCode
from grader.core.wiring import Definition, Probes

QUESTION = Definition(
    figure_plan="grader.assignments.course.figure_plans:perceptron")

DIMENSIONS = range(1, 10)
# The update check trains on copies of one point m * w (labelled -1) from weights w:
# m < 0 is a correct point (nothing may change), m > 0 a mistake.
MULTIPLIERS = (-5.0, -2.0, 2.0, 5.0)
UPDATE_ROWS = 500
READ_LIMIT = 20 * UPDATE_ROWS   # reads before a loop that never converges is ended


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
    scores, predictions, zero_predictions, kinds = [], [], [], set()
    for d in DIMENSIONS:
        model = _build(ctx, d, ctx.probes[f"w{d}"])
        point = torch.from_numpy(ctx.probes[f"x{d}"])                     # (1, d)
        name = f"models.PerceptronModel.{ctx.interface.method(model)}"
        scores.append(_number(ctx.call(name, ctx.interface.output(model), point), name,
                              ctx.interface.source(model)))
        get_prediction = type(model).__dict__.get("get_prediction")
        for target, x in ((predictions, point), (zero_predictions, torch.zeros_like(point))):
            value = ctx.call("models.PerceptronModel.get_prediction", model.get_prediction, x)
            kinds.add("tensor" if torch.is_tensor(value) else "number")
            target.append(_number(value, "models.PerceptronModel.get_prediction",
                                  get_prediction))
    record.update(scores=scores, predictions=predictions, zero_predictions=zero_predictions,
                  prediction_kinds=sorted(kinds))


class _WeightRecorder:
    """Watches the weights while train_perceptron reads the update check's dataset
    (set as the dataset's monitor, which it calls after every read): notes each new
    value, and ends a training loop that is still reading after ``read_limit`` reads
    (one that never converges on the check's single point)."""

    def __init__(self, weight, read_limit: int, kept: int = 200):
        self.weight, self.read_limit, self.kept = weight, read_limit, kept
        self.states = [self._now()]
        self.reads = 0

    def _now(self) -> list[float]:
        return self.weight.detach().double().reshape(-1).tolist()

    def update(self, dataset) -> None:
        self.reads += 1
        now = self._now()
        if now != self.states[-1] and len(self.states) < self.kept:
            self.states.append(now)
        if self.reads > self.read_limit:
            raise StopStudentCode()

    def close(self) -> None:
        pass


@QUESTION.step("update", budgeted=True)
def update(ctx, record) -> None:
    import backend
    cases = []
    for multiplier, start in zip(MULTIPLIERS, ctx.probes["update_w"]):
        model = _build(ctx, 2, start[None, :])
        label, train_perceptron = ctx.interface.training(ctx, model, "train_perceptron")
        point = multiplier * start[None, :]
        dataset = backend.Custom_Dataset(np.tile(point, (UPDATE_ROWS, 1)),
                                         -np.ones((UPDATE_ROWS, 1)))
        recorder = _WeightRecorder(model.get_weights(), READ_LIMIT)
        dataset.monitor = recorder
        try:
            ctx.call(label, train_perceptron, model, dataset)
            stopped = False
        except StopStudentCode:
            stopped = True
        final = _weights(ctx, model).reshape(-1).tolist()
        cases.append({"states": recorder.states + [final], "stopped": stopped})
    record["cases"] = cases


def _weights(ctx, model) -> np.ndarray:
    """The model's weights after training, as a float64 array."""
    weight = ctx.call("models.PerceptronModel.get_weights", model.get_weights)
    return expect_tensor(weight, "models.PerceptronModel.get_weights").detach().double().numpy()


@QUESTION.step("converge")
def converge(ctx, record) -> None:
    import backend
    model = _build(ctx, 3)
    label, train_perceptron = ctx.interface.training(ctx, model, "train_perceptron")
    dataset = ctx.call("backend.PerceptronDataset", backend.PerceptronDataset, model)
    dataset.x, dataset.y = ctx.probes["train_x"], ctx.probes["train_y"]
    with ctx.training(dataset, record):
        ctx.call(label, train_perceptron, model, dataset)
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
                            f"{expected:.4f}; expected {want:g}"
                            + _prediction_hint(prediction, result.values))
        if zero != 1.0:
            return v.failed(f"get_prediction returned {zero:g} for a point with score exactly "
                            "0; expected 1 (a score >= 0 means 1)")
    return v.passed("one (1, d) weight Parameter; scores and predictions correct")


def _prediction_hint(prediction: float, values: dict) -> str:
    if prediction in (1.0, -1.0):
        return ""
    what = "a tensor holding the score" if "tensor" in values.get("prediction_kinds", []) \
        else "the score"
    return (f"\nHint: get_prediction must return the number 1 or -1, not {what}: e.g. "
            "`return 1 if self(x).item() >= 0 else -1`")


@QUESTION.verdict("update", reads=("weight_tolerance",))
def judge_update(v):
    """The writeup's rule: a mistake on (x, y) moves the weights by a positive multiple
    of y * x (once, or several times until the point is right; any step size), and a
    correctly classified point changes nothing."""
    result = v.step()
    if result is None or not result.ok:
        return v.missing()
    cases = result.values.get("cases")
    if not isinstance(cases, list) or len(cases) != len(MULTIPLIERS) or not all(
            isinstance(case, dict) and _is_path(case.get("states")) for case in cases):
        return v.failed("the update check did not report its results")
    tolerance = v.settings["weight_tolerance"]
    for multiplier, start, case in zip(MULTIPLIERS, v.probes["update_w"], cases):
        start = start.astype(np.float64)
        point = multiplier * start
        states = [np.array(state) for state in case["states"]]
        problem = _update_problem(start, point, states, tolerance)
        if problem:
            found, expected = problem
            return v.failed(
                f"starting from weights {np.round(start, 4).tolist()} (the check sets them, "
                f"whatever __init__ starts with) and training on copies of the point "
                f"{np.round(point, 4).tolist()} labelled -1, {found}; expected {expected} "
                "(a mistake on (x, y) adds y * x, times a positive step, to the weights; a "
                "correct point changes nothing)")
    return v.passed("weights move by a positive multiple of y * x on mistakes only")


def _is_path(states) -> bool:
    return isinstance(states, list) and len(states) >= 2 and all(
        isinstance(state, list) and len(state) == 2
        and all(isinstance(value, (int, float)) for value in state) for state in states)


def _update_problem(start, point, states, tolerance) -> tuple[str, str] | None:
    """What is wrong with the weights' path ``states`` (start first, final last) on
    copies of ``point`` labelled -1, as (found, expected); None if nothing is."""
    direction = -point                                      # y * x with y = -1
    rounded = lambda w: np.round(w, 4).tolist()             # noqa: E731
    if float(start @ point) < 0:                            # already classified -1
        changed = next((s for s in states if not np.allclose(s, start, rtol=tolerance,
                                                             atol=tolerance)), None)
        if changed is not None:
            return (f"which those weights classify correctly, the weights became "
                    f"{rounded(changed)}", f"{rounded(start)} (no change)")
        return None
    if all(np.allclose(s, start, rtol=tolerance, atol=tolerance) for s in states):
        return ("a point those weights get wrong, the weights did not change",
                f"a change along {rounded(direction)}")
    for before, after in zip(states, states[1:]):
        move = after - before
        if np.allclose(move, 0, atol=tolerance * 1e-2):
            continue
        if float(before @ point) < 0:
            return (f"the weights changed from {rounded(before)} to {rounded(after)} after "
                    "the point was already classified correctly", "no further change")
        along = float(move @ direction) / float(direction @ direction)
        if along <= 0 or not np.allclose(move, along * direction, rtol=1e-3,
                                         atol=tolerance * 1e-2 + 1e-3 * np.abs(move).max()):
            return (f"the weights moved by {rounded(move)}",
                    f"a positive multiple of y * x = {rounded(direction)}")
    return None


@QUESTION.verdict("converge", reads=("training_accuracy",))
def judge_converge(v):
    result = v.step()
    weights = v.outcome.array("converge", "weights")
    if result is None or not result.ok or weights is None:
        return v.missing()
    if weights.shape != (1, 3) or not np.isfinite(weights).all():
        return v.failed(f"the trained weights have shape {weights.shape} or are not finite; "
                        "expected finite (1, 3) weights")
    required = v.settings["training_accuracy"]
    if not result.values.get("items_read"):
        return v.failed("train_perceptron never read the dataset: loop over a DataLoader "
                        "built from it", metric=Measured(0.0, FRACTION, at_least=required))
    x, y = v.probes["train_x"].astype(np.float64), v.probes["train_y"]
    accuracy = float(np.mean(np.where(x @ weights.T.astype(np.float64) >= 0, 1.0, -1.0) == y))
    message = (f"{accuracy:.2%} of the {len(x)} training points classified correctly "
               f"(required: {required:.0%})")
    figure = Measured(accuracy, FRACTION, at_least=required)
    if accuracy >= required:
        return v.passed(message, metric=figure)
    return v.failed(message + "; keep looping until a full pass makes no mistakes",
                    metric=figure)
