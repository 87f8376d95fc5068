"""What student code returned, checked where it ran (sandbox side): a tensor, of
the expected shape, from the model's computation as the question's interface has it;
and ``is_finite`` for the numbers the judge reads back."""

from __future__ import annotations

import math

from grader.core.source import StepFailure, is_stub


def expect_tensor(value, label: str, method=None):
    """``value`` if it is a torch tensor, else a StepFailure saying what it was."""
    import torch
    if value is None:
        if method is not None and is_stub(method):
            raise StepFailure("none", f"{label} returned None: it is still the skeleton. "
                                      "Fill it in (see its docstring).")
        raise StepFailure("none", f"{label} returned None: is a `return` statement missing?")
    if not torch.is_tensor(value):
        raise StepFailure("type", f"{label} returned a {type(value).__name__}; it should "
                                  "return a torch tensor")
    return value


def expect_shape(tensor, shape: tuple, label: str, meaning: str = "") -> None:
    if tuple(tensor.shape) != tuple(shape):
        raise StepFailure("shape", f"{label} returned a tensor of shape {tuple(tensor.shape)}; "
                                   f"expected {tuple(shape)}{meaning}")


def forward_method(model):
    """The model's own forward (for telling a skeleton stub from a missing return)."""
    return type(model).__dict__.get("forward")


def run_model(ctx, model, label: str, x):
    """The model's computation on ``x`` as the course version has it (``forward``,
    or ``run`` in the earlier handout): (output tensor, 'models.X.forward')."""
    name = f"{label}.{ctx.interface.method(model)}"
    output = ctx.call(name, ctx.interface.output(model), x)
    return expect_tensor(output, name, ctx.interface.source(model)), name


def is_finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
