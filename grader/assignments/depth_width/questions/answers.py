"""q1d, q1e, q3b, q3c, q3d and q3e of "depth-width": the written problems that have
exact answers, given as functions in ``answers.py``. The question's ``task``
setting says which; the judge computes every expected answer itself.

Networks are given as a list of layers, each a pair (weights (outputs, inputs),
biases (outputs,)), with a ReLU after every layer but the last; the last layer's one
output is the network's value. The hidden units are the outputs of every layer but
the last.
"""

from __future__ import annotations

import numpy as np

from grader.checks.values import as_numbers, expect_tensor
from grader.core.source import StepFailure
from grader.core.wiring import Definition, Probes

QUESTION = Definition()
MODULE = "answers"
FUNCTIONS = {"or": ("or_network",), "xor": ("xor_layers", "xor_network"),
             "conv_parameters": ("conv_parameters",), "conv_shape": ("conv_output_shape",),
             "average_pool": ("average_pool",), "max_pool": ("max_pool",)}
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
# The problem's four 4x4 matrices.
PROBLEM_MATRICES = np.array([
    [[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]],
    [[0, 1, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1], [0, 0, 0, 0]],
    [[0, 0, 0, 0], [0, 1, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1]],
    [[0, 0, 0, 0], [1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0]]], dtype=np.float64)
OWN_SHAPES = ((6, 6), (4, 8), (2, 2), (8, 6))


@QUESTION.probes()
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    public = {f"matrix_{i}": matrix for i, matrix in enumerate(PROBLEM_MATRICES)}
    for i, shape in enumerate(OWN_SHAPES, start=len(PROBLEM_MATRICES)):
        public[f"matrix_{i}"] = np.round(rng.uniform(-5, 5, shape), 2)
    return Probes(public=public)


# ------------------------------------------------------------------ sandbox side

def _network(ctx, function, label: str, record, name: str) -> None:
    found = ctx.call(label, function)
    if found is None:
        expect_tensor(found, label, function)
    if not isinstance(found, (list, tuple)) or not found:
        raise StepFailure("type", f"{label} returned {type(found).__name__}; expected a list "
                                  "of layers, each a pair (weights, biases)")
    for number, layer in enumerate(found):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise StepFailure("type", f"{label}: layer {number} is not a pair (weights, biases)")
        record.save(f"{name}_{number}_weights",
                    np.atleast_2d(as_numbers(layer[0], f"{label}'s layer {number} weights")))
        record.save(f"{name}_{number}_biases",
                    np.atleast_1d(as_numbers(layer[1], f"{label}'s layer {number} biases")))
    record[f"{name}_layers"] = len(found)


@QUESTION.step("answer", budgeted=True, reads=("task",))
def answer(ctx, record):
    module = ctx.student(MODULE)
    task = ctx.settings["task"]
    for name in FUNCTIONS[task]:
        function = ctx.lookup(module, name)
        label = f"{MODULE}.{name}"
        if name.endswith("_network"):
            _network(ctx, function, f"{label}()", record, name)
        elif name.endswith("_pool"):
            for key in sorted(k for k in ctx.probes if k.startswith("matrix_")):
                found = ctx.call(f"{label}", function, ctx.probes[key].copy())
                record.save(f"pooled_{key}", as_numbers(found, label, function=function)
                            .astype(np.float64))
        else:
            found = ctx.call(f"{label}()", function)
            record[name] = as_numbers(found, f"{label}()", function=function).tolist()


# -------------------------------------------------------------------- judge side

def evaluate(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """The network's value for each row of x: ReLU after every layer but the last."""
    values = x
    for number, (weights, biases) in enumerate(layers):
        values = values @ weights.T + biases
        if number < len(layers) - 1:
            values = np.maximum(values, 0)
    return values


def _layers(v, name: str) -> list | str:
    """The network ``name`` the sandbox recorded, or why it cannot be evaluated."""
    count = v.step().values.get(f"{name}_layers")
    if not isinstance(count, int):
        return f"{name}() gave no layers"
    layers = [(v.outcome.array("answer", f"{name}_{i}_weights"),
               v.outcome.array("answer", f"{name}_{i}_biases")) for i in range(count)]
    width = 2
    for i, (weights, biases) in enumerate(layers):
        if weights is None or biases is None or weights.ndim != 2 or weights.shape[1] != width \
                or biases.shape != (weights.shape[0],):
            return (f"{name}(): layer {i} must have weights of shape (outputs, {width}) and "
                    f"biases of shape (outputs,)")
        width = weights.shape[0]
    if width != 1:
        return f"{name}(): the last layer has {width} outputs; the network gives one value"
    return layers


def _truth_table(function_name: str, layers, wanted: list[str]) -> str:
    values = evaluate(layers, INPUTS)[:, 0]
    rows = [f"({int(a)}, {int(b)}) -> {value:g}" for (a, b), value in zip(INPUTS, values)]
    return f"{function_name} gives " + ", ".join(rows) + "; " + " and ".join(wanted)


def judge_or(v):
    layers = _layers(v, "or_network")
    if isinstance(layers, str):
        return v.failed(layers)
    values = evaluate(layers, INPUTS)[:, 0]
    if not (np.isclose(values[0], 0, atol=1e-9) and np.all(values[1:] >= 1 - 1e-9)):
        return v.failed(_truth_table("the network", layers, [
            "OR(0, 0) = 0", "OR(0, 1), OR(1, 0), OR(1, 1) >= 1 are required"]))
    hidden = sum(weights.shape[0] for weights, _ in layers[:-1])
    if hidden > 1:
        return v.scored(v.check.points * 4 / 7,
                        f"the network computes OR, but with {hidden} hidden units: one is "
                        "enough (none, even, if the output unit sums the inputs)")
    return v.passed(f"computes OR on the four inputs with {hidden} hidden unit(s)")


def judge_xor(v):
    said = v.step().values.get("xor_layers")
    said = said[0] if isinstance(said, list) and len(said) == 1 else said
    layers = _layers(v, "xor_network")
    number_right = said == 2
    if isinstance(layers, str):
        network_right, why = False, layers
    else:
        values = evaluate(layers, INPUTS)[:, 0]
        computes = (np.allclose(values[[0, 3]], 0, atol=1e-9)
                    and np.all(values[[1, 2]] >= 1 - 1e-9))
        network_right = computes and len(layers) == 2
        why = ("" if network_right else _truth_table("xor_network", layers, [
            "XOR(0, 0) = XOR(1, 1) = 0", "XOR(0, 1), XOR(1, 0) >= 1 are required"])
            if not computes else f"xor_network has {len(layers)} layers; two are enough")
    if number_right and network_right:
        return v.passed("two layers, and a two-layer network that computes XOR")
    parts = [] if number_right else [f"xor_layers() is {said}: a single layer computes a "
                                     "linear function, which cannot separate XOR's inputs; "
                                     "two layers can"]
    if why:
        parts.append(why)
    return v.scored(v.check.points / 2 * (number_right + network_right), "; ".join(parts))


def judge_conv_parameters(v):
    found = v.step().values.get("conv_parameters")
    expected = 8 * (5 * 5 * 3 + 1)
    if found == [expected] or found == expected:
        return v.passed(f"{expected} = 8 filters x (5 x 5 x 3 weights + 1 bias)")
    if found in ([8 * 5 * 5 * 3], 8 * 5 * 5 * 3):
        return v.failed(f"{found}: the biases are missing (one per filter)")
    return v.failed(f"conv_parameters() is {found}; count each filter's weights and its bias")


def judge_conv_shape(v):
    found = v.step().values.get("conv_output_shape")
    if found in ([28, 28, 8], [8, 28, 28]):
        return v.passed("28 x 28 (32 - 5 + 1 without padding) x 8 filters")
    return v.failed(f"conv_output_shape() is {found}; a 5x5 filter without padding fits "
                    "32 - 5 + 1 times along each side, once per filter")


def pooled(matrix: np.ndarray, how) -> np.ndarray:
    """2x2 pooling with stride 2 of an (even, even) matrix."""
    rows, columns = matrix.shape
    return how(matrix.reshape(rows // 2, 2, columns // 2, 2), axis=(1, 3))


def judge_pool(v, how, name: str):
    for key in sorted(k for k in v.probes if k.startswith("matrix_")):
        matrix = v.probes[key]
        found = v.outcome.array("answer", f"pooled_{key}")
        if found is None:
            return v.missing()
        expected = pooled(matrix, how)
        if found.shape != expected.shape or not np.allclose(found, expected, atol=1e-9):
            which = "one of the problem's 4x4 matrices" \
                if int(key.split("_")[1]) < len(PROBLEM_MATRICES) else "a matrix of ours"
            return v.failed(f"{name} of {which} ({matrix.shape}) gave {found.tolist()}; "
                            f"expected {expected.tolist()} (2x2 windows, stride 2)")
    return v.passed(f"the problem's four matrices and {len(OWN_SHAPES)} of ours")


JUDGES = {"or": judge_or, "xor": judge_xor, "conv_parameters": judge_conv_parameters,
          "conv_shape": judge_conv_shape,
          "average_pool": lambda v: judge_pool(v, np.mean, "average_pool"),
          "max_pool": lambda v: judge_pool(v, np.max, "max_pool")}


@QUESTION.verdict("answer", reads=("task",))
def judge_answer(v):
    result = v.step()
    if result is None or not result.ok:
        return v.missing()
    return JUDGES[v.settings["task"]](v)
