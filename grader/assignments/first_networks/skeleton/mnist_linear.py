"""First networks, part 2: a fully connected network on MNIST.

In your own experiments, load the digits with

    from first_networks_data import load_mnist
    (X_train, y_train), (X_test, y_test) = load_mnist()

reshape the (N, 28, 28) images to (N, 784) float tensors, standardise them with
``standardize``, and wrap them in ``TensorDataset(images, labels)``. The autograder
does the same (with its own, correct standardisation) before it calls
``train_mnist``.

Run `python autograder.py -q q3` and `-q q4` to check your work.
"""

import torch
from torch import nn
from torch.utils.data import DataLoader


def standardize(train_images, test_images):
    """Scale both sets so that the training set has mean 0 and standard deviation 1.

    Use the mean and the standard deviation of the training set for the test set
    too: the test set stands for new data, which could not have been used to
    compute them.

    Args:
        train_images: (N, 784) float tensor; test_images: (M, 784) float tensor.
    Returns:
        (standardised train_images, standardised test_images), new tensors of the
        same shapes (leave the arguments unchanged).
    """
    "*** YOUR CODE HERE ***"


class DigitNet(nn.Module):
    """A fully connected network: (B, 784) standardised images to (B, 10) scores,
    one per digit. The number of layers and of neurons is up to you."""

    def __init__(self):
        super().__init__()
        "*** YOUR CODE HERE ***"

    def forward(self, x):
        """x: (B, 784). Returns (B, 10) scores."""
        "*** YOUR CODE HERE ***"


def evaluate(model, dataset, batches=150, batch_size=64):
    """The model's accuracy, in percent, on ``batches`` batches of ``dataset`` (a
    dataset of (image, label) pairs), computed without gradients."""
    "*** YOUR CODE HERE ***"


def train_mnist(model, train_data, test_data, eval_every=500):
    """Train ``model`` on ``train_data`` (a dataset of (image, label) pairs, iterate
    it with a DataLoader). Every ``eval_every`` batches, evaluate the model on a few
    batches of the training set and of ``test_data`` with ``evaluate``, print

        [epoch][batch] -> 87.917% training accuracy 88.615% testing accuracy

    and keep (epoch, batch, training accuracy, testing accuracy).

    Returns:
        the history: the list of those (epoch, batch, training accuracy, testing
        accuracy) tuples, in the order they were measured.
    """
    "*** YOUR CODE HERE ***"


def misclassified(model, images, labels):
    """The rows of ``images`` (an (N, 784) tensor) that ``model`` classifies wrongly,
    given their true ``labels`` ((N,) int64).

    Returns:
        a 1-D tensor (or list) of row indices.
    """
    "*** YOUR CODE HERE ***"
