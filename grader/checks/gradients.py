"""Checking gradients that students compute by hand (back-propagation written in
numpy) against references: central finite differences and torch autograd of the
same loss (sandbox or judge side), and a comparison whose message says what is
wrong and, where the numbers show it, why (judge side, on plain arrays).

A typical use: the sandbox records the student's ``W1_grad`` and the reference
gradient at the same weights; the judge calls ``compare_gradient('W1_grad', found,
expected)`` and fails the check with its message when that is not ''.
"""

from __future__ import annotations

import numpy as np

# The smallest scale a relative error is divided by (an expected gradient of zeros
# has no scale of its own).
TINY = np.finfo(np.float64).tiny
# How far a rescaled, transposed or per-example answer may stray from the expected
# gradient and still count as "exactly that mistake", in units of the tolerances
# the comparison itself uses (finite differences carry some noise).
DIAGNOSIS_SLACK = 10.0
# A constant factor c counts as 1/n or n for an integer n when it is that close to
# it, relative to n.
INTEGER_SLACK = 1e-3


# ----------------------------------------------------------- reference gradients


def numerical_gradient(function, point: np.ndarray, epsilon: float = 1e-6) -> np.ndarray:
    """Central differences of ``function(array) -> float`` at ``point``.

    ``point`` has any shape; the result is float64 with the same shape, entry i being
    (f(point + eps e_i) - f(point - eps e_i)) / (2 eps). A float64 ``point`` is
    perturbed in place, one entry at a time, and each entry is put back exactly
    (also when ``function`` raises), so a function that reads the same array through
    a model (``model.W1 is point``) sees the perturbation; any other ``point`` (another
    dtype, a read-only or non-contiguous view) is first copied to float64. It takes
    2 * point.size calls: for a large weight matrix, pass a function of a slice of it.
    """
    owned = (isinstance(point, np.ndarray) and point.dtype == np.float64
             and point.flags.writeable and point.flags.c_contiguous)
    # C order, so that entry i of the flat view is entry i of the gradient's.
    work = point if owned else np.array(point, dtype=np.float64, order="C")
    gradient = np.zeros(work.shape, dtype=np.float64)
    flat_work, flat_gradient = work.reshape(-1), gradient.reshape(-1)
    for i in range(work.size):
        original = flat_work[i]
        try:
            flat_work[i] = original + epsilon
            above = float(function(work))
            flat_work[i] = original - epsilon
            below = float(function(work))
        finally:
            flat_work[i] = original
        flat_gradient[i] = (above - below) / (2.0 * epsilon)
    return gradient


def autograd_gradient(function, point: np.ndarray) -> np.ndarray:
    """The gradient torch's autograd finds for ``function`` at ``point``.

    ``function`` takes a float64 tensor of point's shape (with requires_grad) and
    returns a tensor holding one number. Returns a float64 array of point's shape;
    zeros when the result does not depend on the input. ``point`` is not changed.
    """
    import torch
    values = torch.tensor(np.asarray(point, dtype=np.float64), dtype=torch.float64,
                          requires_grad=True)
    result = function(values)
    if not torch.is_tensor(result) or result.numel() != 1:
        raise ValueError("autograd_gradient needs a function returning a single-number "
                         f"tensor; it returned {_kind_of(result)}")
    (gradient,) = torch.autograd.grad(result.reshape(()), [values], allow_unused=True)
    if gradient is None:
        return np.zeros(values.shape, dtype=np.float64)
    return gradient.detach().to(torch.float64).cpu().numpy().copy()


def relative_error(found, expected) -> float:
    """max |found - expected| / max(max |expected|, TINY): the largest difference as
    a fraction of the expected gradient's largest entry (0.0 for empty arrays)."""
    found = np.asarray(found, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if found.size == 0 or expected.size == 0:
        return 0.0
    return float(np.max(np.abs(found - expected)) / max(float(np.max(np.abs(expected))), TINY))


# -------------------------------------------------------------------- comparing


def compare_gradient(name: str, found, expected: np.ndarray, rtol: float = 1e-4,
                     atol: float = 1e-6) -> str:
    """'' when ``found`` matches ``expected`` as ``np.allclose(found, expected, rtol,
    atol)`` has it; otherwise one sentence for the student naming ``name``, what is
    wrong and by how much, with a diagnosis where the numbers show one (transposed,
    a constant factor such as an average where a sum was asked, a flipped sign, all
    zeros, one gradient per example).

    ``found`` is whatever the student's code produced (an array, a list, a torch
    tensor, None, ...); ``expected`` is the reference gradient, any shape.
    """
    expected = np.asarray(expected, dtype=np.float64)
    if found is None:
        return (f"{name} is None; expected an array of shape {_shape(expected.shape)}: is the "
                "gradient computed but never stored (or a `return` missing)?")
    array = _as_array(found)
    if array is None:
        return (f"{name} is {_kind_of(found)}, not an array of numbers; expected an array of "
                f"shape {_shape(expected.shape)}, the shape of the parameter it belongs to")
    if array.shape != expected.shape:
        return _shape_message(name, array, expected, rtol, atol)
    if not np.isfinite(expected).all():
        return (f"the reference gradient for {name} is not finite at these weights, so it "
                "cannot be compared (please report this to the course staff)")
    bad = ~np.isfinite(array)
    if bad.any():
        count = int(bad.sum())
        return (f"{name} contains {count} NaN or infinite "
                f"{'entry' if count == 1 else 'entries'} of {array.size} "
                f"(the first at {_index(np.argwhere(bad)[0], array.ndim)}): look for a "
                "division by zero, a log of 0 or an exp that overflows (subtract the row "
                "maximum before exp in a softmax)")
    if np.allclose(array, expected, rtol=rtol, atol=atol):
        return ""
    return _value_message(name, array, expected, rtol, atol)


def _value_message(name: str, found: np.ndarray, expected: np.ndarray, rtol: float,
                   atol: float) -> str:
    difference = np.abs(found - expected)
    wrong = difference > atol + rtol * np.abs(expected)
    where = np.unravel_index(int(np.argmax(difference)), difference.shape)
    measured = (f"{name} differs from the expected gradient in {int(wrong.sum())} of "
                f"{found.size} entries: the largest difference is "
                f"{float(difference[where]):.4g} at {_index(where, found.ndim)}")
    if float(np.max(np.abs(expected))) > atol:
        measured += f" (relative error {relative_error(found, expected):.3g})"
    diagnosis = _diagnosis(found, expected, rtol, atol)
    if diagnosis:
        return f"{measured}; {diagnosis}"
    return (f"{measured}; check the chain rule for this parameter step by step against a "
            "finite-difference estimate on a tiny input")


def _diagnosis(found: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str:
    """What the difference looks like, or '' when no single mistake explains it."""
    significant = np.abs(expected) > atol
    # With fewer than two clearly non-zero entries any answer "is a multiple of" the
    # expected one, so no pattern would mean anything.
    if significant.sum() < 2:
        return ""
    if float(np.max(np.abs(found))) <= atol:
        return ("it is zero everywhere: is the gradient never accumulated into this array, "
                "or reset after it was computed?")
    if found.ndim == 2 and found.shape[0] == found.shape[1] and _close(found.T, expected,
                                                                       rtol, atol):
        return ("its values are the expected gradient transposed: swap the operands of the "
                "matrix product (e.g. delta.T @ x rather than x.T @ delta)")
    factor = _constant_factor(found, expected, rtol, atol)
    return _factor_message(factor) if factor is not None else ""


def _constant_factor(found: np.ndarray, expected: np.ndarray, rtol: float,
                     atol: float) -> float | None:
    """c when ``found`` is c * ``expected`` up to noise (least squares, then a check
    that what c leaves over is within the comparison's tolerances), else None."""
    factor = float(np.vdot(found, expected) / np.vdot(expected, expected))
    if not np.isfinite(factor) or factor == 0.0:
        return None
    return factor if _close(found, factor * expected, rtol, atol) else None


def _factor_message(factor: float) -> str:
    size = abs(factor)
    if abs(size - 1.0) <= INTEGER_SLACK:
        # A positive factor this close to 1 is noise, not a mistake worth naming.
        return ("its sign is flipped: the update would climb the loss instead of "
                "descending it") if factor < 0 else ""
    count = _integer_near(1.0 / size)
    if count is not None:
        scale = (f"divided by {count}, as if averaged over {count} examples where the loss "
                 "sums them: drop the division by the batch size for this loss")
    elif _integer_near(size) is not None:
        count = _integer_near(size)
        scale = (f"times {count}, as if summed over {count} examples where the loss "
                 "averages them: divide by the batch size"
                 + (" (or a factor 1/2, as in a squared error, is missing)"
                    if count == 2 else ""))
    else:
        scale = f"times {size:.4g}: look for a constant factor that is missing or extra"
    if factor < 0:
        return f"its sign is flipped and, apart from that, it is the expected gradient {scale}"
    return f"it is the expected gradient {scale}"


def _integer_near(value: float) -> int | None:
    """The integer n > 1 that ``value`` is (within INTEGER_SLACK * n), else None."""
    n = round(value)
    return int(n) if n > 1 and abs(value - n) <= INTEGER_SLACK * n else None


def _shape_message(name: str, found: np.ndarray, expected: np.ndarray, rtol: float,
                   atol: float) -> str:
    stated = f"{name} has shape {_shape(found.shape)}; expected {_shape(expected.shape)}"
    if found.ndim == 2 and found.shape == expected.shape[::-1]:
        what = ("it is the expected gradient transposed"
                if _close(found.T, expected, rtol, atol) else "the shape is transposed")
        return (f"{stated}: {what}; swap the operands of the matrix product (e.g. "
                "delta.T @ x rather than x.T @ delta) so the gradient has the shape of its "
                "parameter")
    if found.ndim == expected.ndim + 1 and found.shape[1:] == expected.shape:
        advice = "combine them over the batch axis (axis 0) as the loss does, by sum or mean"
        if np.isfinite(found).all():
            for how, reduced in (("sum", found.sum(axis=0)), ("mean", found.mean(axis=0))):
                if _close(reduced, expected, rtol, atol):
                    advice = f"their {how} over axis 0 is the expected gradient, so take that"
                    break
        return f"{stated}: it holds one gradient per example ({found.shape[0]} of them); {advice}"
    if found.size == expected.size:
        return (f"{stated}: the number of entries is right but the arrangement is not; a "
                "gradient has exactly the shape of its parameter (is a reshape or a missing "
                "keepdims changing it?)")
    return f"{stated}, the shape of the parameter it belongs to"


# ---------------------------------------------------------------------- helpers


def _close(found: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> bool:
    return bool(np.allclose(found, expected, rtol=DIAGNOSIS_SLACK * rtol,
                            atol=DIAGNOSIS_SLACK * atol))


def _as_array(value) -> np.ndarray | None:
    """``value`` as a float64 array (torch tensors included), or None when it is not
    an array of real numbers."""
    try:
        if hasattr(value, "detach") and hasattr(value, "cpu"):   # a torch tensor
            if value.is_complex():
                return None
            value = value.detach().cpu().double().numpy()
        if isinstance(value, (str, bytes, dict, set)) or np.iscomplexobj(value):
            return None
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError, AttributeError):
        return None
    return array


def _kind_of(value) -> str:
    if hasattr(value, "shape"):
        return f"a {type(value).__name__} of shape {_shape(tuple(value.shape))}"
    return f"a {type(value).__name__}"


def _shape(shape: tuple) -> str:
    return str(tuple(int(side) for side in shape))


def _index(where, ndim: int) -> str:
    if ndim == 0:
        return "its only entry"
    index = tuple(int(i) for i in where)
    return f"index {index[0]}" if ndim == 1 else f"index {index}"
