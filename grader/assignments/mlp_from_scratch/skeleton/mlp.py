"""Part 1: a multi-layer perceptron in numpy, trained with back-propagation you write.

The network: 784 inputs -> 64 hidden units with a sigmoid -> 10 outputs with a
softmax over them,

    y_hat = softmax(W2 sigmoid(W1 x + b1) + b2).

You may import numpy, matplotlib and time here, nothing else (not torch).

Gradients are SUMMED over the examples of a batch: ``update_grad`` adds each
example's gradient of the cross-entropy to the ``*_grad`` attributes, so that
calling it once on a batch of 256 images or 256 times on one image each gives the
same gradients. Batching the forward and backward passes over 256 images is allowed
and much faster than a loop over examples.

Run `python autograder.py -q q1` (initialisation), `-q q2` (forward and
back-propagation), `-q q3` (accuracy) and `-q q4` (confusion matrix).
"""

import numpy as np


class MLP:
    """Attributes: W1 (64, 784), b1 (64,), W2 (10, 64), b2 (10,), and their
    gradients W1_grad, b1_grad, W2_grad, b2_grad of the same shapes."""

    def __init__(self):
        """Draw W1 and W2 from a Gaussian of mean 0 and standard deviation 0.1
        (np.random.normal), set b1 and b2 to zeros, and zero the gradients."""
        "*** YOUR CODE HERE ***"

    def forward(self, x):
        """The class probabilities of one image x (784,) as a (10,) array, or of a
        batch (B, 784) as (B, 10). Keep what back-propagation needs (the input, the
        hidden activations, the output) in attributes, e.g. self.f1."""
        "*** YOUR CODE HERE ***"

    def update_grad(self, y):
        """ADD to W1_grad, b1_grad, W2_grad, b2_grad the gradients of the
        cross-entropy loss of the last ``forward``, for its one-hot labels y ((10,) or
        (B, 10)), summed over the batch. dL/da2 = y_hat - y."""
        "*** YOUR CODE HERE ***"

    def update_params(self, learning_rate):
        """One step of gradient descent: each parameter -= learning_rate * its gradient."""
        "*** YOUR CODE HERE ***"

    def reset_grad(self):
        """Set every gradient to zeros of its parameter's shape."""
        "*** YOUR CODE HERE ***"


def train_mlp(model, dataset):
    """Train ``model`` on ``dataset.train_images`` / ``dataset.train_labels`` (see
    mlp_data.py) with stochastic gradient descent: batches of 256, learning rate
    0.001, the cross-entropy loss. For each batch call model.reset_grad(),
    model.forward(images), model.update_grad(labels), model.update_params(0.001), in
    that order. ``dataset.batches(256)`` gives one shuffled epoch of batches;
    ``dataset.accuracy(model, 'validation')`` measures (and remembers, for the plot of
    accuracy against evaluations) how you are doing. Never train on the test set."""
    "*** YOUR CODE HERE ***"


def confusion_matrix(model, images, labels):
    """The 10x10 confusion matrix of ``model`` on (N, 784) ``images`` with true
    digits ``labels`` ((N,) integers): entry [i, j] counts the images of digit i
    that the model classifies as j."""
    "*** YOUR CODE HERE ***"


def templates(model):
    """The rows of W1 as 64 images of 28x28 pixels: a (64, 28, 28) array (not graded;
    plot them for your report)."""
    "*** YOUR CODE HERE ***"
