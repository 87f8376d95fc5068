"""q2 of "first networks": a network for the four quadrants.

``QuadrantNet()`` maps (B, 2) points to (B, 4) class scores through two hidden
layers, read from its module tree (grader/checks/model_tree.py). The student's
``train_quadrants(model, dataset)`` trains it on points the judge drew and labelled
by the rule (a TensorDataset of (points, labels)); the judge scores it on fresh
points, whose labels the sandbox never sees.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.first_networks.questions.quadrant_data import rule
from grader.checks import model_tree
from grader.checks.classifier import accuracy_verdict, measure_accuracy, predict_in_chunks
from grader.checks.training import parameters_changed, parameters_snapshot
from grader.checks.values import expect_filled, expect_shape, expect_tensor, forward_method
from grader.core.wiring import Definition, Probes

QUESTION = Definition()
MODULE, MODEL = "quadrants", "QuadrantNet"


@QUESTION.probes(reads=("training_points", "fresh_points"))
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    train = rng.uniform(-1, 1, (settings["training_points"], 2))
    fresh = rng.uniform(-1, 1, (settings["fresh_points"], 2))
    return Probes(public={"train_x": train.astype(np.float32), "train_y": rule(train),
                          "fresh_x": fresh.astype(np.float32)},
                  secret={"fresh_y": rule(fresh)})


def build(ctx):
    module = ctx.student(MODULE)
    return ctx.call(f"quadrants.{MODEL}()", ctx.lookup(module, MODEL))


# ------------------------------------------------------------------ sandbox side

@QUESTION.step("layers", budgeted=True)
def layers(ctx, record):
    import torch
    model = build(ctx)
    x = torch.from_numpy(ctx.probes["fresh_x"][:5].copy())
    label = f"quadrants.{MODEL}.forward"
    output = expect_tensor(ctx.call(label, model, x), label, forward_method(model))
    expect_shape(output, (5, 4), label, " (one score per quadrant for each point)")
    record["layers"] = model_tree.layers(model)


@QUESTION.step("train")
def train(ctx, record):
    import torch

    import first_networks_data  # the assignment's support module, loaded by the sandbox
    model = build(ctx)
    dataset = first_networks_data.Tensors(torch.from_numpy(ctx.probes["train_x"].copy()),
                                          torch.from_numpy(ctx.probes["train_y"].copy()))
    ctx.keep(model=model)
    trainer = expect_filled(ctx.lookup(ctx.student(MODULE), "train_quadrants"),
                            "quadrants.train_quadrants")
    before = parameters_snapshot(model)
    with ctx.training(dataset, record):
        ctx.call("quadrants.train_quadrants", trainer, model, dataset)
    record["parameters_changed"] = parameters_changed(model, before)
    record.save("logits", predict_in_chunks(ctx, model, f"quadrants.{MODEL}",
                                            ctx.probes["fresh_x"], 4))


# -------------------------------------------------------------------- judge side

@QUESTION.verdict("layers")
def judge_layers(v):
    result = v.step()
    if result is None or not result.ok:
        return v.missing()
    found = result.values.get("layers") or []
    linear = [entry for entry in found if isinstance(entry, dict)
              and isinstance(entry.get("out_features"), int)]
    shown = model_tree.summary(found)
    if len(linear) < 3:
        return v.failed(f"{MODEL} has {len(linear)} Linear layer(s) ({shown}); two hidden "
                        "layers need three: 2 -> hidden -> hidden -> 4")
    if linear[0].get("in_features") != 2 or linear[-1].get("out_features") != 4:
        return v.failed(f"{MODEL}'s layers are {shown}: the first must read the 2 "
                        "coordinates and the last give 4 scores, one per quadrant")
    return v.passed(f"{shown}: {len(linear) - 1} hidden layers, 4 outputs")


@QUESTION.verdict("train", reads=("min_accuracy",))
def judge_train(v):
    labels = v.secret["fresh_y"]
    accuracy = measure_accuracy(v, labels, "fresh points")
    if not isinstance(accuracy, float):   # the check's failure, saying why
        return accuracy
    return accuracy_verdict(v, accuracy, f"accuracy {accuracy:.2%} on {len(labels)} fresh "
                                         "points it never saw")
