"""Training the student's model as their own script would (sandbox side): a fresh
model and dataset, the student's training function observed without being changed,
and whether it moved any weight."""

from __future__ import annotations


def build_model_and_dataset(ctx, model_name: str, dataset_name: str,
                            dataset_options: dict | None = None):
    """The student's ``models.<model_name>()`` and
    ``backend.<dataset_name>(model, **dataset_options)``, built fresh.

    Every step builds its own: the model a training step trains has seen nothing
    before (no sanity forward that could move a BatchNorm's statistics), and the
    step's seed is set just before, so training runs exactly as in a student's own
    script that seeds torch, builds the model and the dataset, then trains."""
    import backend
    models = ctx.student("models")
    model = ctx.call(f"models.{model_name}()", ctx.lookup(models, model_name))
    dataset = ctx.call(f"backend.{dataset_name}", getattr(backend, dataset_name), model,
                       **(dataset_options or {}))
    return model, dataset


def train_watched(ctx, record, model, dataset, train_name: str,
                  note_inputs: bool = False) -> None:
    """Run the student's training (``train.<train_name>(model, dataset)``, or the
    model's own ``train(dataset)`` in the earlier handout) with the live plot on (if
    asked for) and progress observed, and record whether training changed any
    weight."""
    label, train_function = ctx.interface.training(ctx, model, train_name)
    before = parameters_snapshot(model)
    with ctx.training(dataset, record, model if note_inputs else None):
        ctx.call(label, train_function, model, dataset)
    record["parameters_changed"] = parameters_changed(model, before)


def parameters_snapshot(model) -> list:
    return [p.detach().clone() for p in model.parameters()]


def parameters_changed(model, before: list) -> bool:
    import torch
    after = list(model.parameters())
    return len(after) != len(before) or any(
        a.shape != b.shape or not torch.equal(a.detach(), b) for a, b in zip(after, before))


def training_notes(values: dict) -> str:
    if values.get("parameters_changed") is False:
        return ("\ntraining did not change any of the model's weights: is the training "
                "function still the skeleton, or is optimizer.step() missing?")
    return ""
