"""Staff solution of "depth-width"'s written problems with exact answers."""

import numpy as np


def or_network():
    return [(np.array([[1.0, 1.0]]), np.array([0.0])),     # one hidden ReLU unit
            (np.array([[1.0]]), np.array([0.0]))]


def xor_layers():
    return 2


def xor_network():
    return [(np.array([[1.0, -1.0], [-1.0, 1.0]]), np.zeros(2)),
            (np.array([[1.0, 1.0]]), np.zeros(1))]


def conv_parameters():
    return 8 * (5 * 5 * 3 + 1)


def conv_output_shape():
    return (28, 28, 8)


def average_pool(matrix):
    rows, columns = matrix.shape
    return matrix.reshape(rows // 2, 2, columns // 2, 2).mean(axis=(1, 3))


def max_pool(matrix):
    rows, columns = matrix.shape
    return matrix.reshape(rows // 2, 2, columns // 2, 2).max(axis=(1, 3))
