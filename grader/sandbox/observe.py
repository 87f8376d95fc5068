"""Watching student training from inside the sandbox, without changing it.

While a question's training step runs, ``TrainingObserver`` notes what the
student's code does anyway: the items it reads from the dataset (epochs), the
values ``get_validation_accuracy()`` returns, the losses it calls ``backward()``
on and, where a hint needs it, the shape of the model's last input. It sends a ``progress`` event to the judge at most every ``PROGRESS_SECONDS``
(the judge shows a status line), and its summary goes into the step's record, where
verdicts and hints read it.

Nothing here touches a random generator or a tensor's value: the loss is read with
``detach()`` and the validation accuracy is the student's own call. DataLoader
workers started with "spawn" get no observer (it is not pickled into them), so
training runs exactly as in the student's own script.
"""

from __future__ import annotations

import math
import time

PROGRESS_SECONDS = 0.5
KEPT_VALUES = 1000      # validation accuracies kept for the record (the latest ones)


def _nothing():
    return None


class TrainingObserver:
    """Observes one training run; use as a context manager around it."""

    def __init__(self, channel, dataset, model=None):
        self.channel, self.dataset, self.model = channel, dataset, model
        self.last_input_shape: list[int] | None = None
        self.validation: list[float] = []
        self.losses_seen = 0
        self.last_loss: float | None = None
        self.non_finite_losses = 0
        self.first_non_finite_at: int | None = None
        self._sent = 0.0
        self._restore = []

    # -- switching on and off ---------------------------------------------------
    def __enter__(self):
        import torch
        dataset = self.dataset
        inner = getattr(dataset, "monitor", None)
        dataset.monitor = _Monitor(self, inner)
        self._restore.append(lambda: setattr(dataset, "monitor", inner))

        original = getattr(dataset, "get_validation_accuracy", None)
        if callable(original):
            dataset.get_validation_accuracy = _ValidationCall(self, original)
            self._restore.append(lambda: dataset.__dict__.pop("get_validation_accuracy", None))

        backward = torch.Tensor.backward
        observer = self

        def observed_backward(tensor, *args, **kwargs):
            observer._loss(tensor)
            return backward(tensor, *args, **kwargs)

        torch.Tensor.backward = observed_backward
        self._restore.append(lambda: setattr(torch.Tensor, "backward", backward))

        if isinstance(self.model, torch.nn.Module):     # only where a hint needs it (q4)
            handle = self.model.register_forward_pre_hook(_InputShape(self))
            self._restore.append(handle.remove)
        return self

    def __exit__(self, *exc):
        for undo in reversed(self._restore):
            try:
                undo()
            except Exception:  # noqa: BLE001 - putting things back must not fail the step
                pass
        self._restore.clear()
        return False

    # -- what is observed -----------------------------------------------------------
    def _loss(self, tensor) -> None:
        try:
            if tensor.numel() != 1:
                return
            value = float(tensor.detach())
        except Exception:  # noqa: BLE001 - an odd tensor is the student's to explain, not ours
            return
        self.losses_seen += 1
        self.last_loss = value
        if not math.isfinite(value):
            self.non_finite_losses += 1
            if self.first_non_finite_at is None:
                self.first_non_finite_at = self.losses_seen
        self.send()

    def validation_returned(self, value) -> None:
        try:
            self.validation.append(float(value))
        except (TypeError, ValueError):
            return
        del self.validation[:-KEPT_VALUES]
        self.send(now=True)

    def epochs(self) -> float | None:
        try:
            size = len(self.dataset)
        except Exception:  # noqa: BLE001 - a dataset without a length has no epochs
            return None
        return getattr(self.dataset, "items_read", 0) / size if size else None

    # -- reporting ------------------------------------------------------------------
    def send(self, now: bool = False) -> None:
        moment = time.monotonic()
        if now or moment - self._sent >= PROGRESS_SECONDS:
            self._sent = moment
            self.channel.event(progress=self.summary(brief=True))

    def summary(self, brief: bool = False) -> dict:
        epochs = self.epochs()
        facts = {"epochs": round(epochs, 3) if epochs is not None else None,
                 "validation": self.validation[-1] if self.validation else None,
                 "loss": self.last_loss if self.last_loss is None or math.isfinite(
                     self.last_loss) else str(self.last_loss)}
        if not brief:
            facts.update(validation_history=list(self.validation),
                         losses_seen=self.losses_seen,
                         non_finite_losses=self.non_finite_losses,
                         first_non_finite_at=self.first_non_finite_at,
                         last_input_shape=self.last_input_shape)
        return facts


class _Shared:
    """Copies of the object holding this one (a dataset, a model) share it."""

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


class _Monitor(_Shared):
    """Sits in ``dataset.monitor``: reports progress, then calls the live plot (if any).

    A copy of the dataset shares it; a pickled dataset (a DataLoader worker started
    with "spawn") gets no monitor, as without the autograder."""

    def __init__(self, observer: TrainingObserver, inner):
        self.observer, self.inner = observer, inner

    def update(self, dataset) -> None:
        self.observer.send()
        if self.inner is not None:
            self.inner.update(dataset)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()

    def __reduce__(self):
        return _nothing, ()


class _ValidationCall(_Shared):
    """Stands in for ``dataset.get_validation_accuracy``: the student's call, noted.
    Pickled, it becomes the dataset's own method again."""

    def __init__(self, observer: TrainingObserver, original):
        self.observer, self.original = observer, original

    def __call__(self, *args, **kwargs):
        value = self.original(*args, **kwargs)
        self.observer.validation_returned(value)
        return value

    def __reduce__(self):
        return getattr, (self.original.__self__, self.original.__name__)


class _InputShape(_Shared):
    """A forward pre-hook noting the shape of the model's first input. A copy of the
    model shares it; a pickled model gets a hook that does nothing."""

    def __init__(self, observer: TrainingObserver):
        self.observer = observer

    def __call__(self, module, args) -> None:
        if args and hasattr(args[0], "shape"):
            self.observer.last_input_shape = [int(size) for size in args[0].shape]

    def __reduce__(self):
        return _IdleHook, ()


class _IdleHook:
    def __call__(self, module, args) -> None:
        return None
