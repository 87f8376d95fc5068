"""Sandbox-side helpers for the questions' ``figure_data`` functions.

These run only when figures are saved (``--save-plots``), after every scored step
of the question, on objects the steps kept (``ctx.keep``). They record plain arrays;
the judge draws from them (grader/figures/plans.py). They only look: a model runs
in eval mode without gradients, with its train/eval flags restored afterwards, and
the global random generators are put back as they were, so recording figure data
changes nothing a later computation sees.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np

from grader.core.model_calls import evaluating

# First-layer weights recorded for q3's templates: enough for a grid, not the
# whole (k, 784) matrix of a wide layer.
MAX_TEMPLATES = 64
# q5: the largest kernel side taken for "the learned kernel" (a Linear's weight is
# far wider), and the most kernels kept when a model has several.
MAX_KERNEL_SIDE, MAX_KERNELS = 9, 8


@contextlib.contextmanager
def random_state_preserved(seed: int | None = None):
    """Restore Python's, numpy's and torch's global generators on exit; with a
    ``seed``, seed torch inside, so that sampling is the same on every run."""
    import torch
    python_state, numpy_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


@contextlib.contextmanager
def observing(model):
    """``model`` in eval mode (dropout draws nothing) under ``torch.no_grad()``;
    every submodule's train/eval flag is restored on exit."""
    import torch
    with evaluating(model), torch.no_grad():
        yield model


def save_validation_history(record, dataset) -> None:
    """Save ``dataset.validation_history`` (backend.py: one ``(epochs read,
    accuracy)`` per call of ``get_validation_accuracy``) as ``validation``, an
    (n, 2) float64 array, if the student's code asked for any."""
    history = getattr(dataset, "validation_history", None)
    if not history:
        return
    values = np.asarray(history, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 2:
        record.save("validation", values)


def first_layer_weight(model, inputs: int) -> tuple[np.ndarray, int] | None:
    """The weight of the model's first ``Linear(inputs, k)`` (its first
    MAX_TEMPLATES rows, (rows, inputs)) and k; None when no Linear layer reads
    ``inputs`` features."""
    import torch
    for module in model.modules():
        if isinstance(module, torch.nn.Linear) and module.in_features == inputs:
            weight = module.weight.detach().float().cpu().numpy()
            return weight[:MAX_TEMPLATES], int(module.out_features)
    return None


def small_kernels(model) -> np.ndarray | None:
    """The model's convolution kernel(s) as an (n, h, w) array: the first parameter
    whose last two sides are at most MAX_KERNEL_SIDE, preferring one whose name
    mentions 'conv'; None if there is none."""
    small = [(name, parameter) for name, parameter in model.named_parameters()
             if parameter.dim() >= 2 and max(parameter.shape[-2:]) <= MAX_KERNEL_SIDE]
    chosen = [pair for pair in small if "conv" in pair[0].lower()] or small
    if not chosen:
        return None
    kernel = chosen[0][1].detach().float().cpu()
    return kernel.reshape(-1, *kernel.shape[-2:])[:MAX_KERNELS].numpy()   # (n, h, w)
