"""The student README of "first networks" (``python -m grader release --course
first-networks``), its question table filled in from the table."""

from __future__ import annotations

from grader.core.handout_text import import_rules, time_limits
from grader.core.table import Assignment

PASS_CRITERIA = {
    "q1": "`quadrant_labels` follows the rule, the axes included; `quadrant_dataset(n, "
          "seed)` gives labelled points fixed by the seed",
    "q2": "`QuadrantNet` has two hidden layers and 4 outputs; trained by "
          "`train_quadrants`, >= {min_accuracy:.0%} on fresh points",
    "q3": "`standardize` gives the training images mean 0 and standard deviation 1 and "
          "scales the test images with the training set's statistics",
    "q4": "`DigitNet` trained by `train_mnist`: >= {min_accuracy:.0%} on test digits you "
          "never saw; its history's testing accuracies measured on `test_data`; "
          "`misclassified` finds the wrong rows",
}

README = """\
# First networks

A first practical in two parts. Part 1: build a data set of points in the plane
labelled by their quadrant, and a small network that learns it. Part 2: standardise
MNIST's digits, train a fully connected network on them while evaluating it at
regular intervals, and look at its mistakes. The autograder checks both; the whole
run takes well under a minute on a laptop.

## What to edit

| file | what you write |
|---|---|
| `quadrants.py` | `quadrant_labels(points)`, `quadrant_dataset(n, seed)`, `QuadrantNet`, `train_quadrants(model, dataset)` |
| `mnist_linear.py` | `standardize(train_images, test_images)`, `DigitNet`, `evaluate(...)`, `train_mnist(model, train_data, test_data)`, `misclassified(model, images, labels)` |

Keep the names: the autograder looks them up. The docstrings in the two files say
what each function takes and returns. `first_networks_data.py` loads MNIST
(`load_mnist()`); `autograder.py`, `grader/` and `data/` belong to the autograder.

## Set up and run

```
python -m pip install torch numpy matplotlib
python autograder.py                        # all questions
python autograder.py -q q2                  # one question
python autograder.py --save-plots plots     # plots/q4.png: your network's mistakes
```

## Questions

| question | points | passes when |
|---|---|---|
"""


def student_readme(assignment: Assignment) -> str:
    rows = "".join(f"| {q.id} {q.title} | {q.points:g} | "
                   f"{PASS_CRITERIA[q.id].format(**q.thresholds)} |\n"
                   for q in assignment.questions)
    return (README + rows + f"\nThe skeleton as shipped earns 0/{assignment.total:g}. "
            "The training functions get `Tensors` datasets (a TensorDataset of (x, label) "
            "pairs): iterate them with `DataLoader(dataset, batch_size=64, shuffle=True)`.\n"
            + time_limits(assignment) + import_rules(assignment))
