"""q3g-sweep of "depth-width" (optional and ungraded: ten epochs of training):
``dropout_sweep(train_data, test_data)`` trains the student's CNN for one epoch at 10
equally spaced dropout probabilities in [0, 1] and returns the 10 accuracies. It runs
when named (``-q q3g-sweep``) or when figures are saved; ``--save-plots`` draws
accuracy against the probability."""

from __future__ import annotations

import numpy as np

from grader.checks.values import as_numbers, expect_filled
from grader.core.wiring import Definition, Probes

QUESTION = Definition(figure_plan="grader.assignments.depth_width.figure_plans:sweep")
PROBABILITIES = np.linspace(0, 1, 10)


@QUESTION.probes()
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    return Probes(public={"probabilities": PROBABILITIES})


@QUESTION.step("sweep")
def sweep(ctx, record):
    import depth_width_data   # the assignment's support module, loaded by the sandbox
    function = expect_filled(ctx.lookup(ctx.student("networks"), "dropout_sweep"),
                             "networks.dropout_sweep")
    train_data, test_data = depth_width_data.load_mnist()
    with ctx.training(train_data, record):
        found = ctx.call("networks.dropout_sweep", function, train_data, test_data)
    record.save("accuracies", as_numbers(found, "networks.dropout_sweep", function=function)
                .astype(np.float64).reshape(-1))


@QUESTION.verdict("sweep")
def judge_sweep(v):
    found = v.outcome.array("sweep", "accuracies")
    if found is None:
        return v.missing()
    if found.shape != (10,) or not np.all((found >= 0) & (found <= 1)):
        return v.failed(f"dropout_sweep returned {found.shape[0]} values; expected the 10 "
                        "accuracies (fractions in [0, 1]) for p = 0, 1/9, ..., 1")
    best = int(np.argmax(found))
    return v.passed("accuracy after one epoch: " + ", ".join(
        f"p={p:.2f}: {a:.2%}" for p, a in zip(PROBABILITIES, found))
        + f" (best at p = {PROBABILITIES[best]:.2f})")
