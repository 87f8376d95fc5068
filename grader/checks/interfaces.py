"""Where a question finds the student's code, by the course version's interface
(sandbox side; an assignment's table says which interface each question uses).

- ``split-files`` (the current handout): the model's ``forward`` in models.py, loss
  functions in losses.py, training functions in train.py.
- ``models-only`` (the earlier handout): everything is the model's own method:
  ``run(x)`` (``forward`` where there is no ``run``), ``get_loss(x, y)``, and
  ``train(self, dataset)``, which replaces ``torch.nn.Module.train(mode)`` and is
  told apart from it by its signature.

The judge's checks are the same either way: the steps ask this module for "the
model's computation", "the loss of (x, y)" and "the training function", and a
submission written for the other interface gets a message saying so.
"""

from __future__ import annotations

import inspect

from grader.core.source import StepFailure, is_stub
from grader.core.table import MODELS_ONLY, SPLIT_FILES

OTHER_COURSE = {SPLIT_FILES: "models-only", MODELS_ONLY: "current"}


class SplitFiles:
    name = SPLIT_FILES

    def method(self, model) -> str:
        return "forward"

    def output(self, model):
        return model

    def source(self, model):
        """The function to inspect for an unchanged skeleton stub."""
        return type(model).__dict__.get("forward")

    def training(self, ctx, model, train_name: str):
        """(label, function(model, dataset)) for the question's training."""
        try:
            module = ctx.student("train", optional=("losses",))
            return f"train.{train_name}", ctx.lookup(module, train_name)
        except StepFailure as failure:
            if dataset_trainer(model) is None:
                raise
            raise _other_interface(failure, (
                f"{type(model).__name__} defines train(self, dataset), as the course's "
                "earlier, models-only handout has it")) from None

    def loss(self, ctx, model, loss_name: str):
        """(label, make, source): ``make(x)`` gives ``loss(output, y)`` for inputs x;
        ``source`` is the student's function, for telling an unchanged stub."""
        try:
            function = ctx.lookup(ctx.student("losses"), loss_name)
        except StepFailure as failure:
            if not callable(getattr(model, "get_loss", None)):
                raise
            raise _other_interface(failure, (
                f"{type(model).__name__} defines get_loss(x, y), as the course's earlier, "
                "models-only handout has it")) from None
        return f"losses.{loss_name}", lambda x: function, function


class ModelsOnly:
    name = MODELS_ONLY

    def method(self, model) -> str:
        return "run" if callable(getattr(model, "run", None)) else "forward"

    def output(self, model):
        return model.run if self.method(model) == "run" else model

    def source(self, model):
        return type(model).__dict__.get(self.method(model))

    def training(self, ctx, model, train_name: str):
        trainer = dataset_trainer(model)
        if trainer is None:
            found = _split_files_function(ctx, "train", train_name)
            raise StepFailure("interface", (
                f"models.{type(model).__name__} has no train(self, dataset) method, which "
                "this course version (models-only: everything in models.py) calls to train "
                "the model" + (f"; your train.py defines {train_name}, as the current handout "
                               "has it: grade with --course current" if found else "")))
        return f"models.{type(model).__name__}.train", lambda model, dataset: trainer(dataset)

    def loss(self, ctx, model, loss_name: str):
        get_loss = getattr(model, "get_loss", None)
        if not callable(get_loss):
            found = _split_files_function(ctx, "losses", loss_name)
            raise StepFailure("interface", (
                f"models.{type(model).__name__} has no get_loss(x, y) method, which this "
                "course version (models-only) calls for the loss"
                + (f"; your losses.py defines {loss_name}, as the current handout has it: "
                   "grade with --course current" if found else "")))
        return (f"models.{type(model).__name__}.get_loss",
                lambda x: (lambda output, y: get_loss(x, y)),
                type(model).__dict__.get("get_loss"))


INTERFACES = {SPLIT_FILES: SplitFiles(), MODELS_ONLY: ModelsOnly()}


def dataset_trainer(model):
    """The model's own ``train(self, dataset)`` (the earlier handout's), or None when
    ``train`` is torch's ``Module.train(mode)`` or takes something else."""
    import torch
    train = getattr(type(model), "train", None)
    if train is None or train is torch.nn.Module.train:
        return None
    try:
        parameters = list(inspect.signature(train).parameters.values())[1:]   # after self
    except (TypeError, ValueError):
        return None
    required = [p for p in parameters if p.default is inspect.Parameter.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(required) != 1 or required[0].name == "mode":
        return None
    return getattr(model, "train")


def _split_files_function(ctx, module: str, name: str) -> bool:
    """Whether the student's ``module``.py has a filled-in ``name``."""
    try:
        function = ctx.lookup(ctx.student(module), name)
    except StepFailure:
        return False
    return callable(function) and not is_stub(function)


def _other_interface(failure: StepFailure, found: str) -> StepFailure:
    return StepFailure("interface", (
        f"{failure.message} This course version (current) keeps losses in losses.py and "
        f"training in train.py; {found}: grade with --course "
        f"{OTHER_COURSE[SPLIT_FILES]}"))
