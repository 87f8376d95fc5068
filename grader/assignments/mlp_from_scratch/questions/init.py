"""q1 of "mlp-from-scratch": initialising the network.

``MLP()`` must give W1 (64, 784), b1 (64,), W2 (10, 64) and b2 (10,); the weights
drawn from a Gaussian of standard deviation 0.1, the biases zero. The judge reads
the standard deviation, the mean and the shape of the distribution from the draws
themselves, with tolerances that follow from the sample sizes (several standard
errors, so that an honest draw fails about never), and two networks made after
seeding numpy with different seeds must differ.
"""

from __future__ import annotations

import math

import numpy as np

from grader.assignments.mlp_from_scratch.questions.common import SHAPES, new_mlp, parameters_of
from grader.core.wiring import Definition, Probes

QUESTION = Definition()


@QUESTION.probes()
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    return Probes(public={"seeds": rng.choice(2**31 - 1, size=2, replace=False)})


@QUESTION.step("init", budgeted=True)
def init(ctx, record):
    for run, seed in enumerate(ctx.probes["seeds"].tolist()):
        np.random.seed(seed)        # as a student's own script would, before MLP()
        model = new_mlp(ctx)
        for name, value in parameters_of(model).items():
            record.save(f"{name}_{run}", value)


# -------------------------------------------------------------------- judge side

def gaussian_problem(name: str, values: np.ndarray, std: float, errors: float) -> str:
    """'' when ``values`` look drawn from N(0, std^2); else what is off. The
    tolerances are ``errors`` standard errors of each statistic for this many draws."""
    n = values.size
    found_std, found_mean = float(values.std()), float(values.mean())
    if abs(found_std - std) > errors * std / math.sqrt(2 * n):
        return (f"{name}'s entries have standard deviation {found_std:.4g}; expected 0.1 "
                f"(a Gaussian of standard deviation 0.1, e.g. np.random.normal(0, 0.1, "
                f"shape))")
    if abs(found_mean) > errors * std / math.sqrt(n):
        return f"{name}'s entries have mean {found_mean:.4g}; expected 0 (a centred Gaussian)"
    if n > 10000:   # the shape of the distribution, where there are draws enough to tell
        kurtosis = float(np.mean((values - found_mean) ** 4) / found_std ** 4 - 3)
        if abs(kurtosis) > errors * math.sqrt(24 / n):
            return (f"{name}'s entries are not Gaussian (excess kurtosis {kurtosis:.2f}, where "
                    "a Gaussian has 0): draw them with np.random.normal or randn, not a "
                    "uniform")
    return ""


@QUESTION.verdict("init", reads=("std", "standard_errors"))
def judge_init(v):
    runs = [{name: v.outcome.array("init", f"{name}_{run}") for name in SHAPES}
            for run in range(2)]
    if any(value is None for run in runs for value in run.values()):
        return v.missing()
    first = runs[0]
    for name, shape in SHAPES.items():
        if first[name].shape != shape:
            return v.failed(f"MLP().{name} has shape {first[name].shape}; expected {shape}")
    for name in ("b1", "b2"):
        if np.any(first[name] != 0):
            return v.failed(f"MLP().{name} is not all zeros: initialise the biases with zeros")
    for name in ("W1", "W2"):
        problem = gaussian_problem(name, first[name], v.settings["std"],
                                   v.settings["standard_errors"])
        if problem:
            return v.failed(problem)
    if np.array_equal(runs[0]["W1"], runs[1]["W1"]):
        return v.failed("two networks made after different np.random.seed(...) calls have the "
                        "same W1: draw the weights at random in __init__")
    return v.passed("W1, b1, W2, b2 of the right shapes; weights N(0, 0.1^2), biases zero")
