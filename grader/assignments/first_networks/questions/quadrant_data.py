"""q1 of "first networks": the four-quadrant data set.

The rule: x < 0 and y < 0 is label 0; x < 0 and y >= 0 is 1; x >= 0 and y < 0 is 2;
x >= 0 and y >= 0 is 3. ``quadrant_labels`` is checked on points the judge chose,
points on the axes and the origin among them; ``quadrant_dataset`` must give points
of the stated shapes labelled by that rule, the same points for the same seed and
others for another. The judge applies the rule itself, to whatever came back.
"""

from __future__ import annotations

import numpy as np

from grader.checks.values import as_numbers, expect_tensor
from grader.core.results import COUNT, Measured
from grader.core.source import StepFailure
from grader.core.wiring import Definition, Probes

QUESTION = Definition()
MODULE = "quadrants"
SEEDS = (0, 1)
QUADRANTS = ("x < 0, y < 0", "x < 0, y >= 0", "x >= 0, y < 0", "x >= 0, y >= 0")


def rule(points: np.ndarray) -> np.ndarray:
    """The labels of (n, 2) points by the quadrant rule, as int64 (n,)."""
    return (2 * (points[:, 0] >= 0) + (points[:, 1] >= 0)).astype(np.int64)


@QUESTION.probes(reads=("random_points",))
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    random = rng.uniform(-1, 1, (settings["random_points"], 2))
    # On the axes: x = 0 belongs to x >= 0, y = 0 to y >= 0.
    side = rng.uniform(0.1, 1, 8)
    axes = np.concatenate([np.stack([np.zeros(8), side], 1), np.stack([np.zeros(8), -side], 1),
                           np.stack([side, np.zeros(8)], 1), np.stack([-side, np.zeros(8)], 1),
                           np.zeros((1, 2))])
    points = np.concatenate([axes, random]).astype(np.float32)
    return Probes(public={"points": points}, secret={"labels": rule(points.astype(np.float64))})


# ------------------------------------------------------------------ sandbox side

@QUESTION.step("labels", budgeted=True)
def labels(ctx, record):
    import torch
    module = ctx.student(MODULE)
    function = ctx.lookup(module, "quadrant_labels")
    found = ctx.call("quadrants.quadrant_labels", function,
                     torch.from_numpy(ctx.probes["points"].copy()))
    labels = as_numbers(found, "quadrants.quadrant_labels", whole=True, function=function)
    record.save("labels", labels.astype(np.int64))


@QUESTION.step("dataset", budgeted=True, reads=("dataset_points",))
def dataset(ctx, record):
    module = ctx.student(MODULE)
    function = ctx.lookup(module, "quadrant_dataset")
    n = ctx.settings["dataset_points"]
    for run, seed in enumerate((*SEEDS, SEEDS[0])):
        found = ctx.call(f"quadrants.quadrant_dataset({n}, {seed})", function, n, seed)
        if found is None:
            expect_tensor(found, "quadrants.quadrant_dataset", function)
        if not isinstance(found, (tuple, list)) or len(found) != 2:
            raise StepFailure("type", f"quadrants.quadrant_dataset({n}, {seed}) returned "
                                      f"{type(found).__name__}; expected (points, labels)")
        points = as_numbers(found[0], "quadrant_dataset's points")
        labels_found = as_numbers(found[1], "quadrant_dataset's labels", whole=True)
        record.save(f"points_{run}", points.astype(np.float64))
        record.save(f"labels_{run}", labels_found.astype(np.int64))


# -------------------------------------------------------------------- judge side

def _point(point: np.ndarray) -> str:
    return f"({point[0]:g}, {point[1]:g})"


@QUESTION.verdict("labels")
def judge_labels(v):
    found = v.outcome.array("labels", "labels")
    if found is None:
        return v.missing()
    expected, points = v.secret["labels"], v.probes["points"].astype(np.float64)
    if found.shape != expected.shape:
        return v.failed(f"quadrant_labels returned {found.shape} labels for {len(points)} "
                        f"points; expected one label per point, shape {expected.shape}")
    wrong = np.flatnonzero(found != expected)
    if len(wrong) == 0:
        return v.passed(f"all {len(points)} points labelled by the rule, the axes and the "
                        "origin included")
    first = wrong[0]
    on_axis = points[first, 0] == 0 or points[first, 1] == 0
    message = (f"{len(wrong)} of {len(points)} points are labelled wrongly, e.g. "
               f"{_point(points[first])} got {found[first]}, but the rule gives "
               f"{expected[first]} ({QUADRANTS[expected[first]]})")
    if on_axis and np.all(found[np.all(points != 0, axis=1)]
                          == expected[np.all(points != 0, axis=1)]):
        message += (": every point off the axes is right, so the axis is on the wrong side; "
                    "a point with x = 0 counts as x >= 0, and y = 0 as y >= 0")
    return v.failed(message, metric=Measured(float(len(wrong)), COUNT, at_most=0))


@QUESTION.verdict("dataset", reads=("dataset_points",))
def judge_dataset(v):
    n = v.settings["dataset_points"]
    runs = [(v.outcome.array("dataset", f"points_{i}"), v.outcome.array("dataset", f"labels_{i}"))
            for i in range(3)]
    if any(points is None or labels is None for points, labels in runs):
        return v.missing()
    for seed, (points, labels) in zip((*SEEDS, SEEDS[0]), runs):
        call = f"quadrant_dataset({n}, {seed})"
        if points.shape != (n, 2) or labels.shape != (n,):
            return v.failed(f"{call} returned points of shape {points.shape} and labels of "
                            f"shape {labels.shape}; expected ({n}, 2) and ({n},)")
        if not np.isfinite(points).all():
            return v.failed(f"{call} returned points that are NaN or infinite")
        wrong = np.flatnonzero(labels != rule(points))
        if len(wrong):
            first = wrong[0]
            return v.failed(f"{call}: {len(wrong)} of its {n} points are labelled against the "
                            f"rule, e.g. {_point(points[first])} has label {labels[first]} "
                            f"where the rule gives {rule(points)[first]}")
        missing = sorted(set(range(4)) - set(labels.tolist()))
        if missing:
            return v.failed(f"{call} has no point of label {missing[0]} "
                            f"({QUADRANTS[missing[0]]}): spread the points over the whole "
                            "plane around the origin, e.g. uniformly in [-1, 1] x [-1, 1]")
    (first, _), (other, _), (again, _) = runs
    if not np.array_equal(first, again):
        return v.failed(f"quadrant_dataset({n}, {SEEDS[0]}) gave other points the second time: "
                        "the seed must fix them (e.g. torch.Generator().manual_seed(seed))")
    if np.array_equal(first, other):
        return v.failed(f"quadrant_dataset gave the same points for seeds {SEEDS[0]} and "
                        f"{SEEDS[1]}: draw them from a generator seeded with `seed`")
    return v.passed(f"{n} points of shape ({n}, 2) labelled by the rule, fixed by the seed")
