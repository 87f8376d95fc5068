"""What student code returned, checked where it ran (sandbox side): a tensor, of
the expected shape, from the model's computation as the question's interface has it;
numbers in any of the forms a student may return them (``as_numbers``); and
``is_finite`` for the numbers the judge reads back."""

from __future__ import annotations

import math

import numpy as np

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


def expect_filled(function, label: str):
    """``function`` unless it is still the skeleton's stub (StepFailure then): for
    functions whose result alone would not show it (a training loop returns None)."""
    if is_stub(function):
        raise StepFailure("stub", f"{label} is still the skeleton: fill it in (see its "
                                  "docstring)")
    return function


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


def as_numbers(value, label: str, whole: bool = False, function=None) -> np.ndarray:
    """``value`` (a tensor, a numpy array, or a list of numbers) as a numpy array;
    StepFailure if it is None or none of those, or, with ``whole``, holds numbers
    that are not whole (labels and indices may come as floats like 3.0)."""
    import torch
    if value is None:
        expect_tensor(value, label, function)   # says whether it is still the skeleton
    if torch.is_tensor(value):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise StepFailure("type", f"{label} returned {type(value).__name__}, which is not "
                                  f"an array of numbers ({error})") from None
    if array.dtype.kind not in "biuf":
        raise StepFailure("type", f"{label} returned {type(value).__name__} of "
                                  f"{array.dtype}; expected a tensor of numbers")
    if whole and array.dtype.kind == "f" and (not np.all(np.isfinite(array))
                                              or np.any(array != np.round(array))):
        raise StepFailure("type", f"{label} returned numbers that are not whole (e.g. "
                                  "labels or indices): return integers")
    return array
