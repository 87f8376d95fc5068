"""One line of advice for the mistakes students of this course make most.

A failure already shows the student's line and the exception; these say what to do
about it, in the words of the writeups' tips. ``exception_hint`` runs in the sandbox
(it may look at the frames of the traceback: the layer that received the wrong
shape, the batch the model was given); the others run in the judge on what the
sandbox sent back. Each returns '' when it has nothing to say.
"""

from __future__ import annotations

import math
import re

import numpy as np

LANGUAGE_LETTERS, LANGUAGE_CHARACTERS = 10, 47   # a q4 batch is (B, 10, 47) before movedim
DEVICE_ERRORS = ("Torch not compiled with CUDA enabled", "Found no NVIDIA driver",
                 "Expected all tensors to be on the same device", "CUDA driver",
                 "no CUDA GPUs are available")


def exception_hint(error: BaseException) -> str:
    """Advice for an exception raised by student code ('' if none applies)."""
    text = str(error)
    frames = list(_frames(error))
    if "leaf Variable that requires grad is being used in an in-place operation" in text:
        return ("changing a Parameter in place (w += ...) must happen inside "
                "`with no_grad():`, so that autograd does not record it")
    if "mat1 and mat2 shapes cannot be multiplied" in text:
        return _layer_hint(text, frames)
    if "does not require grad and does not have a grad_fn" in text:
        return ("the loss is not connected to the model's weights: compute it from the "
                "model's output with torch operations only (no .item(), .detach(), numpy "
                "or torch.tensor(...) on the way), and not inside no_grad()")
    if "grad can be implicitly created only for scalar outputs" in text:
        return ("backward() needs a single number: the loss function must average over the "
                "batch (the default reduction of mse_loss and cross_entropy does)")
    if "backward through the graph a second time" in text:
        return ("each batch needs its own forward pass: compute the loss inside the loop, "
                "after optimizer.zero_grad()")
    if any(marker in text for marker in DEVICE_ERRORS):
        return ("the autograder runs on the CPU: pick the device with `torch.device('cuda' "
                "if torch.cuda.is_available() else 'cpu')` and keep the model and its "
                "inputs on the same one")
    if "expected scalar type Long" in text or "multi-target not supported" in text:
        return ("cross_entropy takes the class numbers (y.argmax(dim=1)) or one-hot rows "
                "of the same shape and type as the scores")
    return ""


def _frames(error: BaseException):
    trace = error.__traceback__
    while trace is not None:
        yield trace.tb_frame
        trace = trace.tb_next


def _layer_hint(text: str, frames) -> str:
    match = re.search(r"\((\d+)x(\d+) and (\d+)x(\d+)\)", text)
    given = f"{match.group(2)}" if match else "?"
    layer, name = _failing_linear(frames)
    if layer is None:
        return ("in a matrix product the columns of the first matrix must equal the rows "
                "of the second; print the shapes of both factors")
    where = f"self.{name}" if name else "a Linear layer"
    return (f"{where} is Linear({layer.in_features}, {layer.out_features}) but received "
            f"{given} features per example: a layer's first size must equal the number of "
            "values coming out of the layer before it (or of the input)")


def _failing_linear(frames):
    """The torch.nn.Linear whose forward raised, and its attribute name in the
    student's model (found from the innermost frame with a `self` that holds it)."""
    try:
        import torch
    except ImportError:
        return None, ""
    layer = next((frame.f_locals.get("self") for frame in reversed(frames)
                  if isinstance(frame.f_locals.get("self"), torch.nn.Linear)), None)
    if layer is None:
        return None, ""
    for frame in reversed(frames):
        owner = frame.f_locals.get("self")
        if isinstance(owner, torch.nn.Module) and owner is not layer:
            for name, module in owner.named_modules():
                if module is layer and name:
                    return layer, name
    return layer, ""


# ---------------------------------------------------------------- judge side

def language_batch_hint(shape) -> str:
    """q4: the model was given a (B, 10, 47) batch, words first, not letters first."""
    if not (isinstance(shape, list) and len(shape) == 3
            and shape[1:] == [LANGUAGE_LETTERS, LANGUAGE_CHARACTERS]
            and shape[0] != LANGUAGE_LETTERS):
        return ""
    return (f"the model was given a batch of shape {tuple(shape)}, words first; "
            "LanguageIDModel.forward reads one letter at a time along the first dimension, "
            f"so pass movedim(batch['x'], 0, 1), of shape ({LANGUAGE_LETTERS}, {shape[0]}, "
            f"{LANGUAGE_CHARACTERS})")


def training_hint(training: dict | None) -> str:
    """Advice from what the observer saw while the student's code trained."""
    if not isinstance(training, dict):
        return ""
    bad = training.get("non_finite_losses")
    if isinstance(bad, int) and bad > 0:
        first = training.get("first_non_finite_at")
        when = f" (first at backward() call {first})" if isinstance(first, int) else ""
        return (f"the loss became NaN or infinite during training{when}: the learning rate "
                "is probably too high")
    return ""


def constant_prediction_hint(predicted: np.ndarray, names=None) -> str:
    """When the model gives every input the same class."""
    if predicted.size < 2 or not (predicted == predicted[0]).all():
        return ""
    label = names[int(predicted[0])] if names is not None else str(int(predicted[0]))
    return (f"the model predicts {label} for every input: check that the loss uses the "
            "labels, that the learning rate is not too high, and that no ReLU follows the "
            "last layer")


def never_negative_hint(predictions: np.ndarray, targets: np.ndarray) -> str:
    """q2: outputs that are never negative cannot fit sin(x)."""
    if predictions.size and np.nanmin(predictions) >= 0 and (targets < -0.1).any():
        return ("the model never outputs a negative number, so it fits only the upper half "
                "of sin(x): is there a ReLU after the last layer? The output layer must be "
                "a plain Linear")
    return ""


def validation_hint(progress: dict | None, threshold: float, measured: float,
                    what: str | None) -> str:
    """When the student's code asked for validation accuracy and the measured one
    falls short: what the last validation figure was, and what to aim for. ``what``
    names the scored inputs (None: they are the validation inputs themselves)."""
    validation = (progress or {}).get("validation")
    if not isinstance(validation, (int, float)) or not math.isfinite(validation) \
            or measured >= threshold:
        return ""
    aim = math.ceil((threshold + 0.005) * 1000) / 1000
    if validation >= threshold:
        if what is None:
            return ""
        return (f"your training stopped when validation accuracy was {validation:.2%}: the "
                f"{what} are different ones, so aim higher ({aim:.1%})")
    return (f"the last validation accuracy your code asked for was {validation:.2%}, below "
            f"the {percent(threshold)} required: train longer or make the model larger")


def endless_loop_hint(progress: dict | None, threshold: float) -> str:
    """When training ran into the time limit while the code kept asking for
    validation accuracy: it probably waits for a figure it never reaches (below the
    requirement), or for one of its own that asks more than the grader does (the
    last figure already meets the requirement)."""
    validation = (progress or {}).get("validation")
    if not isinstance(validation, (int, float)) or not math.isfinite(validation):
        return ""
    if validation >= threshold:
        return (f"your training loop was still running at the time limit, although the last "
                f"validation accuracy it asked for, {validation:.2%}, already meets the "
                f"{percent(threshold)} required: the loop's own stopping rule asks for more "
                "than the grader does (a higher accuracy of its own, or a low loss); it may "
                f"stop once validation accuracy is a little above {percent(threshold)}, or "
                "after a fixed number of epochs")
    return (f"your training loop was still running at the time limit, and the last "
            f"validation accuracy it asked for was {validation:.2%}: a loop that waits for "
            f"an accuracy (required: {percent(threshold)}) may never reach it; stop after a "
            "fixed number of epochs too")


def percent(fraction: float) -> str:
    """0.97 -> '97%', 0.975 -> '97.5%': as many decimals as the figure has."""
    return f"{100 * fraction:.2f}".rstrip("0").rstrip(".") + "%"
