"""The written problems with exact answers, as functions.

A network is a list of layers, each a pair (weights, biases): weights of shape
(outputs, inputs) and biases of shape (outputs,), numpy arrays or lists. A ReLU
follows every layer but the last; the last layer's one output is the network's
value. The hidden units are the outputs of every layer but the last. For example,
[(np.array([[1.0, 2.0]]), np.array([0.5]))] computes x1 + 2 x2 + 0.5.

Run `python autograder.py -q 1d` (and 1e, 3b, 3c, 3d, 3e) to check your work.
"""

import numpy as np


def or_network():
    """1D: a network computing OR on 0/1 inputs (x1, x2): OR(0, 0) = 0 and at least 1
    for the other three inputs, with the fewest hidden units possible."""
    "*** YOUR CODE HERE ***"


def xor_layers():
    """1E: the fewest fully-connected layers (with ReLU units) that compute XOR."""
    "*** YOUR CODE HERE ***"


def xor_network():
    """1E: a network with that many layers computing XOR on 0/1 inputs: XOR(0, 0) =
    XOR(1, 1) = 0, XOR(0, 1) and XOR(1, 0) at least 1."""
    "*** YOUR CODE HERE ***"


def conv_parameters():
    """3B: the parameters of a convolution of 8 filters of 5 x 5 x 3 on a
    32 x 32 x 3 image (stride 1, no padding), a bias per filter included."""
    "*** YOUR CODE HERE ***"


def conv_output_shape():
    """3C: the shape of that convolution's output tensor, e.g. (height, width,
    filters)."""
    "*** YOUR CODE HERE ***"


def average_pool(matrix):
    """3D: 2 x 2 average pooling with stride 2 of a numpy matrix of even sides."""
    "*** YOUR CODE HERE ***"


def max_pool(matrix):
    """3E: 2 x 2 max pooling with stride 2 of a numpy matrix of even sides."""
    "*** YOUR CODE HERE ***"
