"""A loss's sanity checks: run once on a small batch in the sandbox, it must give a
single finite number that depends on both the input and the labels; the judge's
``sanity_verdict`` scores what the sandbox found."""

from __future__ import annotations

import math

import numpy as np

from grader.checks.values import expect_shape, expect_tensor, is_finite, run_model
from grader.core.results import CheckResult
from grader.core.source import StepFailure


def loss_sanity(ctx, model, model_label: str, loss_name: str, x, y,
                output_shape: tuple) -> dict:
    """Run model and loss once on (x, y), with gradients for x.

    Returns the facts the judge needs: the output and loss shapes, whether the loss is
    finite, whether it depends on x (a non-zero gradient), and whether it depends on
    y, decided by value: the same predictions with other labels give another loss
    (so a loss written with ``y.argmax(dim=1)``, which has no gradient for y, counts).
    """
    import torch
    x = torch.tensor(np.asarray(x), dtype=torch.float32, requires_grad=True)
    y = torch.tensor(np.asarray(y), dtype=torch.float32)
    loss_label, make_loss, source = ctx.interface.loss(ctx, model, loss_name)
    loss_fn = make_loss(x)
    output, name = run_model(ctx, model, model_label, x)
    expect_shape(output, output_shape, name)
    loss = expect_tensor(ctx.call(loss_label, loss_fn, output, y), loss_label, source)
    if loss.numel() != 1:
        raise StepFailure("shape", f"{loss_label} returned {loss.numel()} numbers (shape "
                                   f"{tuple(loss.shape)}); a loss is a single number: "
                                   "average over the batch")
    if not loss.requires_grad:
        raise StepFailure("graph", f"{loss_label} returned a loss that is not connected "
                                   "to the model (no gradient can flow back); avoid .item(), "
                                   ".detach(), numpy or creating new tensors from values")
    (grad_x,) = ctx.call(f"backpropagating through {loss_label}", torch.autograd.grad,
                         loss, [x], allow_unused=True)
    return {
        "output_shape": list(output.shape),
        "loss_value": _number_of(loss),
        "depends_on_x": grad_x is not None and bool(torch.any(grad_x != 0)),
        "depends_on_y": _depends_on_labels(ctx, loss_fn, loss_label, output.detach(), y),
    }


def _number_of(loss) -> float:
    return float(loss.detach().reshape(-1)[0])


def other_labels(y):
    """Labels that differ from ``y`` in every row: one-hot rows move to the next
    class; other targets move by 1."""
    import torch
    one_hot = (y.dim() == 2 and y.shape[1] > 1 and bool(((y == 0) | (y == 1)).all())
               and bool((y.sum(dim=1) == 1).all()))
    return torch.roll(y, 1, dims=1) if one_hot else y + 1.0


def _depends_on_labels(ctx, loss_fn, loss_label: str, output, y) -> bool:
    """Whether the loss changes when only the labels change, for the model's own
    predictions or, should those give every label the same loss (e.g. equal
    scores for every class), for random ones."""
    import torch
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for predictions in (output, torch.randn(output.shape, generator=generator)):
            values = []
            for labels in (y, other_labels(y)):
                loss = expect_tensor(ctx.call(loss_label, loss_fn, predictions, labels),
                                     loss_label, loss_fn)
                values.append(_number_of(loss))
            if not math.isclose(values[0], values[1], rel_tol=1e-6, abs_tol=1e-9):
                return True
    return False


def sanity_verdict(v, expected_shapes: list[list[int]]) -> CheckResult:
    """Pass when every probe of the check's step had the expected output shape and a
    finite, single-number loss that depends on both x and y."""
    result = v.step()
    if result is None or not result.ok:
        return v.missing()
    probes = result.values.get("probes")
    if not isinstance(probes, list) or len(probes) != len(expected_shapes):
        return v.failed("the sanity checks did not report their results")
    for facts, shape in zip(probes, expected_shapes):
        if not isinstance(facts, dict) or facts.get("output_shape") != shape:
            return v.failed(f"expected output shape {tuple(shape)}")
        if not is_finite(facts.get("loss_value")):
            return v.failed(f"the loss is {facts.get('loss_value')} (not a finite number) for "
                            f"a batch of {shape[0]} with a freshly built model")
        if facts.get("depends_on_x") is not True:
            return v.failed("the loss does not depend on the input x: is the model's output "
                            "used to compute it?")
        if facts.get("depends_on_y") is not True:
            return v.failed("the loss does not depend on the labels y: are they passed to the "
                            "loss function?")
    return v.passed("output shapes and loss gradients are as expected")
