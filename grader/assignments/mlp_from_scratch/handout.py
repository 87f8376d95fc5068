"""The student README of "mlp-from-scratch" (``python -m grader release --course
mlp-from-scratch``), its table of points filled in from the assignment's table."""

from __future__ import annotations

from grader.core.handout_text import import_rules, time_limits
from grader.core.table import Assignment

README = """\
# An MLP by hand, then a CNN in torch

Part 1: a multi-layer perceptron for MNIST's digits in numpy alone (784 inputs, 64
sigmoid hidden units, 10 softmax outputs): its forward pass, its initialisation,
back-propagation written by hand, and training by stochastic gradient descent.
Part 2: train a small convolutional network in torch on the same digits. Both are
graded on their accuracy on MNIST's 10000 test digits, which the autograder keeps:
never train on the test set.

## What to edit

| file | what you write |
|---|---|
| `mlp.py` | `MLP` (`__init__`, `forward`, `update_grad`, `update_params`, `reset_grad`), `train_mlp`, `confusion_matrix`, `templates`; numpy, matplotlib and time only |
| `cnn.py` | `train_cnn` (the network `CNN` is given) |

`mlp_data.py` loads the digits (`load_digits()`: 50000 training, 10000 validation
and 10000 test images) and offers `subset(2000)`, `batches(256)` and
`accuracy(model, split)`; `autograder.py`, `grader/` and `data/` belong to the
autograder.

Speed: a loop over single examples is honest but slow; batching the forward and
backward passes over the 256 images of a batch is allowed and much faster (the
staff solution trains in seconds per epoch). The autograder waits
{mlp_limit} for `train_mlp` and {cnn_limit} for `train_cnn`.

## Set up and run

```
python -m pip install torch numpy matplotlib
python autograder.py                 # every question
python autograder.py -q q2           # one question
python autograder.py --save-plots plots   # confusion matrices, accuracy curves, templates
```

## What the autograder grades

| question | points | what is checked |
|---|---|---|
"""

WHAT = {
    "q1": "W1, b1, W2, b2 of the right shapes; weights Gaussian with standard deviation "
          "0.1, biases zero; other seeds, other weights",
    "q2": "`forward` for an image and a batch; `update_grad` against autograd and "
          "finite differences, for one example and a batch (summed); gradients add up "
          "and `reset_grad` zeroes them; `update_params` steps by -lr times the gradient",
    "q3": "test accuracy of the MLP trained by `train_mlp`: all points at {mark:.0%}, one "
          "less per percentage point below, none at {floor:.0%}; one point of extra credit "
          "per percentage point above {mark:.0%}",
    "q4": "`confusion_matrix`: rows the true digits, columns the predicted ones",
    "q5": "test accuracy of the CNN trained by `train_cnn`: all points at {mark:.0%}, one "
          "less per percentage point below, none at {floor:.0%}; one point of extra credit "
          "per percentage point above {mark:.0%}",
}

TAIL = """
The written parts of the project stay with your instructor: the Jacobians (2.3.1),
the over-fitting plots and their discussion (2.5, 3.3), which digits are hard to
tell apart (2.7), the templates (2.8) and the description of the network (3.1). The
autograder's pictures (`--save-plots`) are a start for them. The skeleton as shipped
earns 0/{total:g}.
"""


def minutes(seconds: float) -> str:
    return f"{seconds / 60:g} minutes"


def student_readme(assignment: Assignment) -> str:
    by_id = {question.id: question for question in assignment.questions}
    rows = []
    for question in assignment.questions:
        extra = sum(c.points for c in question.checks if c.extra_credit)
        points = f"{question.points:g}" + (f" (+{extra:g} extra credit)" if extra else "")
        rows.append(f"| {question.id} {question.title} | {points} | "
                    f"{WHAT[question.id].format(**question.thresholds)} |\n")
    head = README.replace("{mlp_limit}", minutes(by_id["q3"].time_limit)).replace(
        "{cnn_limit}", minutes(by_id["q5"].time_limit))
    return (head + "".join(rows) + TAIL.format(total=assignment.total)
            + time_limits(assignment) + import_rules(assignment))
