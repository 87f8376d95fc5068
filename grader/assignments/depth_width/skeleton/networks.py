"""Problems 2C-2E and 3G: networks for MNIST under limits.

Build each model with torch.nn.Sequential. The autograder checks the limits from
the model itself: the layer types, the hidden units (the output sizes of every Linear
but the last), the hidden layers and, for the CNN, the parameters (every parameter's
number of elements) and the Dropout and BatchNorm2d it must have. A model over a limit
is not trained and earns nothing for its accuracy.

The data: ``train_data, test_data = depth_width_data.load_mnist()`` gives (image,
label) datasets, images (1, 28, 28) in [0, 1]; iterate them with a DataLoader. Your
models take (B, 1, 28, 28) images and return (B, 10) scores.

Run `python autograder.py -q 2c` (and 2d, 2e, 3g) to check your work.
"""

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader


def model_100():
    """2C: only Flatten, Linear, ReLU, Softmax and Dropout layers, at most 100 hidden
    units; test accuracy at least 97.5% once trained by train_model."""
    "*** YOUR CODE HERE ***"


def model_200():
    """2D: the same layers, at most 200 hidden units in at least 2 hidden layers;
    test accuracy at least 98%."""
    "*** YOUR CODE HERE ***"


def model_1000():
    """2E (extra credit): at most 1000 hidden units in at least 3 hidden layers; test
    accuracy at least 98.3%."""
    "*** YOUR CODE HERE ***"


def cnn(dropout=0.25):
    """3G: only Linear, Conv2d, MaxPool2d, BatchNorm2d, Dropout, ReLU, Softmax and
    Flatten layers, fewer than 1,000,000 parameters, at least one Dropout (of
    probability ``dropout``) and one BatchNorm2d; test accuracy at least 98.5% after
    exactly 10 epochs of batch size 32."""
    "*** YOUR CODE HERE ***"


def train_model(model, train_data):
    """Train ``model`` on ``train_data`` with the categorical cross-entropy and an
    optimizer of your choice. The CNN of 3G must train for exactly 10 epochs of
    batch size 32 (the autograder counts them); for the other models the epochs and
    the batch size are yours to choose. If a model ends in Softmax, remember that
    cross_entropy applies log-softmax itself."""
    "*** YOUR CODE HERE ***"


def dropout_sweep(train_data, test_data):
    """3G: train ``cnn(dropout=p)`` for one epoch at each of 10 equally spaced
    probabilities p in [0, 1] (np.linspace(0, 1, 10)) and return the 10 test
    accuracies (fractions), in that order. Not graded."""
    "*** YOUR CODE HERE ***"
