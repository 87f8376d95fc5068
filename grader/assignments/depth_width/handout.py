"""The student README of "depth-width" (``python -m grader release --course
depth-width``), its table of points filled in from the assignment's table."""

from __future__ import annotations

from grader.core.handout_text import import_rules, time_limits
from grader.core.table import Assignment

README = """\
# Depth against width, and a CNN under a budget

Problem 2: build `torch.nn.Sequential` networks for MNIST's digits from Flatten,
Linear, ReLU, Softmax and Dropout layers only, under a budget of hidden units (the
output sizes of every Linear but the last), and train them to a test accuracy.
Problem 3G: a convolutional network of under a million parameters, with at least one
Dropout and one BatchNorm2d, trained for exactly 10 epochs of batch size 32. The
written problems with exact answers (1D, 1E, 3B-3E) are functions in `answers.py`.

## What to edit

| file | what you write |
|---|---|
| `networks.py` | `model_100()`, `model_200()`, `model_1000()`, `cnn()`, `train_model(model, train_data)`, `dropout_sweep(train_data, test_data)` |
| `answers.py` | `or_network()`, `xor_layers()`, `xor_network()`, `conv_parameters()`, `conv_output_shape()`, `average_pool(matrix)`, `max_pool(matrix)` |

`depth_width_data.py` loads the digits (`load_mnist()`: 60000 training and 5000 test
digits, as torchvision's MNIST gives them); `autograder.py`, `grader/` and `data/`
belong to the autograder, which scores your networks on 5000 other test digits.

The autograder checks every limit itself, from your model and from the training it
watches: the layer types, the hidden units and hidden layers, the parameters (every
parameter's number of elements, `sum(p.numel() for p in model.parameters())`), the
Dropout and BatchNorm2d of the CNN, and the CNN's epochs and batch size (counted from
the batches your training calls `backward()` on; an epoch is one pass over the
images you train on, so holding some of `train_data` out for validation is fine). A
model over a limit is not trained, and earns nothing for its accuracy.

Grading takes time: each network is trained by your `train_model`, the CNN for 10
epochs (about 2 minutes for a CNN of 10,000 parameters on one laptop core, about 7
for one of 400,000; the autograder waits up to {cnn_limit} minutes). `dropout_sweep` is not graded; it runs with
`-q q3g-sweep` or `--save-plots`, which draws accuracy against the probability.

## Set up and run

```
python -m pip install torch numpy matplotlib
python autograder.py                  # every question
python autograder.py -q 2c            # one question (q1d ... q3g)
```

## What the autograder grades

| question | points | passes when |
|---|---|---|
"""

TAIL = """
The prose problems (1A-1C, 2A, 2B, 3A, 3F, and 3G's discussion and sweep) stay with
your instructor. The skeleton as shipped earns 0/{total:g}.
"""

WHAT = {
    "q1d": "the network gives OR(0, 0) = 0 and at least 1 for the other inputs, with at "
           "most one hidden unit",
    "q1e": "two layers, and a two-layer network that computes XOR",
    "q2c": "only the allowed layers, at most 100 hidden units; test accuracy >= 97.5%",
    "q2d": "at most 200 hidden units in at least 2 hidden layers; >= 98%",
    "q2e": "at most 1000 hidden units in at least 3 hidden layers; >= 98.3%",
    "q3b": "the number of parameters, biases included",
    "q3c": "the output tensor's shape",
    "q3d": "2x2 average pooling with stride 2, on the problem's matrices and others",
    "q3e": "2x2 max pooling with stride 2, on the problem's matrices and others",
    "q3g": "the allowed layers, under 1,000,000 parameters, a Dropout and a BatchNorm2d; "
           "exactly 10 epochs of batch size 32; test accuracy >= 98.5%",
    "q3g-sweep": "ungraded",
}


def student_readme(assignment: Assignment) -> str:
    rows = []
    for question in assignment.questions:
        points = f"{question.points:g}" + (" (extra credit)" if question.extra_credit else "")
        rows.append(f"| {question.id} | {points} | {WHAT[question.id]} |\n")
    cnn = next(q for q in assignment.questions if q.id == "q3g")
    head = README.replace("{cnn_limit}", f"{cnn.time_limit / 60:g}")
    return (head + "".join(rows) + TAIL.format(total=assignment.total)
            + time_limits(assignment) + import_rules(assignment))
