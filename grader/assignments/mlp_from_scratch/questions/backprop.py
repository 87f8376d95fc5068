"""q2 of "mlp-from-scratch": the forward pass and back-propagation by hand.

The sandbox puts weights the judge chose into the student's ``MLP()`` and calls its
methods on inputs the judge chose; the judge does all the arithmetic:

- forward: softmax(W2 sigmoid(W1 x + b1) + b2) for one image (784,) and a batch;
- gradients: after ``forward(x)``, ``update_grad(y)`` adds the gradients of the
  cross-entropy (summed over the batch) to W1_grad, b1_grad, W2_grad, b2_grad; they
  are compared with torch autograd of that loss, which must itself agree with central
  finite differences (the judge's own check on its reference), for one example and
  for a batch. The message names the gradient that is wrong, by how much, and the
  likely mistake (transposed, averaged instead of summed, no sigmoid derivative);
- accumulate: a second ``update_grad`` adds to the first (judged against the
  student's own gradients, so that a wrong gradient costs only the check above);
  ``reset_grad`` zeroes;
- update: ``update_params(lr)`` moves each parameter by exactly -lr times its gradient.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.mlp_from_scratch.questions import common
from grader.assignments.mlp_from_scratch.questions.common import (
    PARAMETERS,
    SHAPES,
    new_mlp,
    parameters_of,
)
from grader.checks import gradients
from grader.checks.values import as_numbers
from grader.core.wiring import Definition, Probes

QUESTION = Definition()
CASES = ("single", "batch")


@QUESTION.probes(reads=("batch", "learning_rate"))
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    images = data.arrays("mnist.npz")["train_images"]
    rows = rng.choice(len(images), size=2 * settings["batch"] + 1, replace=False)
    x = images[rows].reshape(len(rows), -1).astype(np.float64) / 255
    y = np.eye(10)[rng.integers(0, 10, len(rows))]
    public = {name: rng.normal(0, 0.1, shape) for name, shape in SHAPES.items()}
    public.update({f"grad_{name}": rng.normal(0, 1, shape) for name, shape in SHAPES.items()})
    n = settings["batch"]
    public.update(single_x=x[0], single_y=y[0], batch_x=x[1:n + 1], batch_y=y[1:n + 1],
                  more_x=x[n + 1:], more_y=y[n + 1:],
                  learning_rate=np.float64(settings["learning_rate"]))
    return Probes(public=public)


def _weights(ctx) -> dict:
    return {name: ctx.probes[name] for name in PARAMETERS}


def _zero_gradients(ctx, model) -> None:
    """Gradients of zero, in the shapes the student's reset_grad gives them (a
    transposed W2_grad stays transposed, for the diagnosis), whether or not
    reset_grad itself zeroes them (the accumulate check judges that)."""
    ctx.call("mlp.MLP.reset_grad", model.reset_grad)
    for name, shape in SHAPES.items():
        value = getattr(model, f"{name}_grad", None)
        zeros = np.zeros_like(value, dtype=np.float64) if isinstance(value, np.ndarray) \
            else np.zeros(shape)
        setattr(model, f"{name}_grad", zeros)


# ------------------------------------------------------------------ sandbox side

@QUESTION.step("forward", budgeted=True)
def forward(ctx, record):
    model = new_mlp(ctx, _weights(ctx))
    for case in CASES:
        found = ctx.call("mlp.MLP.forward", model.forward, ctx.probes[f"{case}_x"].copy())
        record.save(case, as_numbers(found, "mlp.MLP.forward", function=type(model).forward))


@QUESTION.step("gradients", budgeted=True)
def update_grad(ctx, record):
    for case in CASES:
        model = new_mlp(ctx, _weights(ctx))
        _zero_gradients(ctx, model)     # this check is about update_grad alone
        ctx.call("mlp.MLP.forward", model.forward, ctx.probes[f"{case}_x"].copy())
        ctx.call("mlp.MLP.update_grad", model.update_grad, ctx.probes[f"{case}_y"].copy())
        for name, value in parameters_of(model, "_grad").items():
            record.save(f"{case}_{name}", value)


@QUESTION.step("accumulate", budgeted=True)
def accumulate(ctx, record):
    """The student's own gradients of two batches, one after the other without a
    reset, and of the second batch alone; then reset_grad."""
    model = new_mlp(ctx, _weights(ctx))
    ctx.call("mlp.MLP.reset_grad", model.reset_grad)
    for part, kept in (("batch", "first"), ("more", "both")):
        ctx.call("mlp.MLP.forward", model.forward, ctx.probes[f"{part}_x"].copy())
        ctx.call("mlp.MLP.update_grad", model.update_grad, ctx.probes[f"{part}_y"].copy())
        for name, value in parameters_of(model, "_grad").items():
            record.save(f"{kept}_{name}", value)
    ctx.call("mlp.MLP.reset_grad", model.reset_grad)
    for name, value in parameters_of(model, "_grad").items():
        record.save(f"reset_{name}", value)
    alone = new_mlp(ctx, _weights(ctx))
    ctx.call("mlp.MLP.reset_grad", alone.reset_grad)
    ctx.call("mlp.MLP.forward", alone.forward, ctx.probes["more_x"].copy())
    ctx.call("mlp.MLP.update_grad", alone.update_grad, ctx.probes["more_y"].copy())
    for name, value in parameters_of(alone, "_grad").items():
        record.save(f"second_{name}", value)


@QUESTION.step("update", budgeted=True)
def update_params(ctx, record):
    model = new_mlp(ctx, _weights(ctx))
    for name in PARAMETERS:
        setattr(model, f"{name}_grad", ctx.probes[f"grad_{name}"].copy())
    ctx.call("mlp.MLP.update_params", model.update_params, float(ctx.probes["learning_rate"]))
    for name, value in parameters_of(model).items():
        record.save(name, value)


# -------------------------------------------------------------------- judge side

def reference_gradients(weights: dict, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Autograd of the summed cross-entropy at ``weights``, checked against central
    finite differences (of every bias and of W2, and of 50 entries of W1): a
    disagreement is our own bug and raises."""
    import torch
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    tensors = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
               for name, value in weights.items()}
    common.torch_loss(tensors, x, y).backward()
    found = {name: tensor.grad.numpy() for name, tensor in tensors.items()}
    for name in ("b1", "W2", "b2"):
        def loss_of(value, name=name):
            return common.loss({**weights, name: value}, x, y)
        numerical = gradients.numerical_gradient(loss_of, weights[name].copy())
        if gradients.relative_error(numerical, found[name]) > 1e-5:
            raise RuntimeError(f"our references for {name} disagree (autograd against finite "
                               "differences)")
    rows = np.random.default_rng(0).choice(weights["W1"].size, 50, replace=False)
    flat = weights["W1"].reshape(-1)
    for row in rows:
        def loss_at(value, row=row):
            changed = flat.copy()
            changed[row] = value[0]
            return common.loss({**weights, "W1": changed.reshape(64, 784)}, x, y)
        numerical = gradients.numerical_gradient(loss_at, flat[row:row + 1].copy())[0]
        if abs(numerical - found["W1"].reshape(-1)[row]) > 1e-6 + 1e-4 * abs(numerical):
            raise RuntimeError("our references for W1 disagree (autograd against finite "
                               "differences)")
    return found


def without_sigmoid_derivative(weights: dict, x: np.ndarray, y: np.ndarray) -> dict:
    """W1 and b1 gradients as a back-propagation that forgets sigmoid' computes them."""
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    d2 = common.forward(weights, x) - y                     # (B, 10)
    d1 = d2 @ weights["W2"]                                 # (B, 64), no f1 (1 - f1)
    return {"W1": d1.T @ x, "b1": d1.sum(axis=0)}


def gradient_problem(v, found: dict, expected: dict, weights: dict, x, y) -> str:
    """The first gradient that is wrong, with a diagnosis; '' when all are right."""
    tolerance = v.settings["tolerance"]
    for name in PARAMETERS:
        message = gradients.compare_gradient(f"{name}_grad", found[name], expected[name],
                                             rtol=tolerance, atol=1e-8)
        if not message:
            continue
        if name in ("W1", "b1"):
            forgetful = without_sigmoid_derivative(weights, x, y)[name]
            if not gradients.compare_gradient(name, found[name], forgetful, rtol=tolerance,
                                              atol=1e-8):
                message += ("; it equals the gradient without the sigmoid's derivative: "
                            "multiply by f1 * (1 - f1) when back-propagating through the "
                            "hidden layer")
        return message
    return ""


@QUESTION.verdict("forward")
def judge_forward(v):
    weights = {name: v.probes[name] for name in PARAMETERS}
    for case in CASES:
        found = v.outcome.array("forward", case)
        if found is None:
            return v.missing()
        x = v.probes[f"{case}_x"]
        expected = common.forward(weights, np.atleast_2d(x))
        shape = (10,) if x.ndim == 1 else expected.shape
        if found.shape != shape:
            what = "one image (784,)" if x.ndim == 1 else f"a batch {x.shape}"
            return v.failed(f"forward returned shape {found.shape} for {what}; expected {shape}")
        if not np.allclose(found.reshape(expected.shape), expected, atol=1e-6, rtol=1e-5):
            sums = found.reshape(expected.shape).sum(axis=1)
            why = "its rows do not sum to 1 (is the softmax missing?)" \
                if not np.allclose(sums, 1, atol=1e-6) else \
                "it is not softmax(W2 sigmoid(W1 x + b1) + b2) for the network's own weights"
            return v.failed(f"forward differs from the expected probabilities by up to "
                            f"{np.abs(found.reshape(expected.shape) - expected).max():.3g}: {why}")
    return v.passed("softmax(W2 sigmoid(W1 x + b1) + b2), for one image and for a batch")


@QUESTION.verdict("gradients", reads=("tolerance",))
def judge_gradients(v):
    weights = {name: v.probes[name] for name in PARAMETERS}
    for case in CASES:
        found = {name: v.outcome.array("gradients", f"{case}_{name}") for name in PARAMETERS}
        if any(value is None for value in found.values()):
            return v.missing()
        x, y = v.probes[f"{case}_x"], v.probes[f"{case}_y"]
        expected = reference_gradients(weights, x, y)
        problem = gradient_problem(v, found, expected, weights, x, y)
        if problem:
            what = "one example" if case == "single" else f"a batch of {len(x)} (summed)"
            return v.failed(f"for {what}: {problem}")
    return v.passed("update_grad adds the cross-entropy's gradients, for one example and "
                    "summed over a batch (checked against autograd and finite differences)")


@QUESTION.verdict("accumulate", reads=("tolerance",))
def judge_accumulate(v):
    """Judged against the student's own gradients, right or wrong (the gradients
    check says whether they are right): two calls must add up, and reset zero."""
    found = {kept: {name: v.outcome.array("accumulate", f"{kept}_{name}")
                    for name in PARAMETERS} for kept in ("first", "both", "second", "reset")}
    if any(value is None for arrays in found.values() for value in arrays.values()):
        return v.missing()
    tolerance = v.settings["tolerance"]
    for name in PARAMETERS:
        first, both, second = (found[kept][name] for kept in ("first", "both", "second"))
        if first.shape != both.shape or second.shape != both.shape:
            return v.failed(f"{name}_grad changed shape between calls of update_grad")
        if not np.allclose(both, first + second, rtol=tolerance, atol=1e-8):
            if np.allclose(both, second, rtol=tolerance, atol=1e-8):
                return v.failed(f"after two forward/update_grad calls, {name}_grad holds the "
                                "second batch's gradient only: update_grad must add to the "
                                "gradients (+=), not replace them")
            return v.failed(f"after two forward/update_grad calls without reset_grad, "
                            f"{name}_grad is not the sum of the two batches' gradients")
    for name in PARAMETERS:
        reset, shape = found["reset"][name], found["first"][name].shape
        if reset.shape != shape or np.any(reset != 0):
            return v.failed(f"after reset_grad, {name}_grad is not all zeros of shape "
                            f"{shape}: reset_grad must zero every gradient")
    return v.passed("update_grad adds to the gradients, and reset_grad zeroes them")


@QUESTION.verdict("update")
def judge_update(v):
    rate = float(v.probes["learning_rate"])
    for name in PARAMETERS:
        found = v.outcome.array("update", name)
        if found is None:
            return v.missing()
        expected = v.probes[name] - rate * v.probes[f"grad_{name}"]
        if found.shape != expected.shape or not np.allclose(found, expected, atol=1e-12,
                                                            rtol=1e-9):
            if found.shape == expected.shape and np.allclose(
                    found, v.probes[name] + rate * v.probes[f"grad_{name}"]):
                return v.failed(f"update_params moved {name} up the gradient: subtract "
                                "learning_rate * gradient")
            return v.failed(f"after update_params({rate:g}), {name} is not {name} - "
                            f"{rate:g} * {name}_grad")
    return v.passed(f"every parameter moves by -{rate:g} times its gradient")
