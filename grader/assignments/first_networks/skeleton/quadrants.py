"""First networks, part 1: points in the plane, labelled by their quadrant.

The rule, for a point (x, y):
    x < 0 and y < 0    -> label 0
    x < 0 and y >= 0   -> label 1
    x >= 0 and y < 0   -> label 2
    x >= 0 and y >= 0  -> label 3
A point on an axis belongs to the ">= 0" side.

Run `python autograder.py -q q1` and `-q q2` to check your work.
"""

import torch
from torch import nn
from torch.utils.data import DataLoader


def quadrant_labels(points):
    """Labels of points by the rule above.

    Args:
        points: (n, 2) float tensor; column 0 is x, column 1 is y.
    Returns:
        (n,) int64 tensor of labels 0-3.
    """
    "*** YOUR CODE HERE ***"


def quadrant_dataset(n, seed):
    """``n`` random points around the origin and their labels.

    Draw the points from a generator seeded with ``seed`` (e.g.
    ``torch.Generator().manual_seed(seed)``), so that the same seed gives the same
    points and another seed others; spread them over all four quadrants (e.g.
    uniformly in [-1, 1] x [-1, 1]). Label them with ``quadrant_labels``.

    Returns:
        (points, labels): a (n, 2) float32 tensor and a (n,) int64 tensor.
    """
    "*** YOUR CODE HERE ***"


class QuadrantNet(nn.Module):
    """The course's network adapted to this task: it takes (B, 2) points and returns
    (B, 4) scores, one per quadrant (how many classes are there?), through two hidden
    layers: Linear(2, h), ReLU, Linear(h, h), ReLU, Linear(h, 4), for a width h of
    your choice."""

    def __init__(self):
        super().__init__()
        "*** YOUR CODE HERE ***"

    def forward(self, x):
        """x: (B, 2) points. Returns (B, 4) scores."""
        "*** YOUR CODE HERE ***"


def train_quadrants(model, dataset):
    """Train ``model`` on ``dataset``, whose items are (point, label) pairs: a
    (2,) float tensor and an int64 label. Iterate it in batches with
    ``DataLoader(dataset, batch_size=32, shuffle=True)``; use a cross-entropy loss
    and an optimizer of your choice for as many epochs as it takes (the autograder
    scores the model on fresh points)."""
    "*** YOUR CODE HERE ***"
