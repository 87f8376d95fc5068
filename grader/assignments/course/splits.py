"""How the shipped data is split and sampled, written once.

``backend.py`` builds the datasets students train on from these facts, and the
judge builds the inputs it scores from the same facts, so the two cannot drift
apart. Plain numbers and slices only: the judge reads this without importing torch.
"""

import math

# MNIST's 10000 test digits are split alternately: even rows are the dev half
# (get_validation_accuracy), odd rows the test half (what the grader scores).
MNIST_DEV_ROWS = slice(0, None, 2)
MNIST_TEST_ROWS = slice(1, None, 2)

# q5's small subset, for students' loop-based Convolve: the first Q5_TRAIN_SIZE
# training digits, as the course has it (the model is measured on those same digits);
# Q5_TEST_SIZE digits it never sees are the first rows of the test half above. With
# held-out scoring (an instructor's setting) it trains on Q5_HELD_OUT_TRAIN_SIZE
# digits and its dev digits are the first Q5_DEV_SIZE rows of the dev half.
Q5_TRAIN_SIZE, Q5_HELD_OUT_TRAIN_SIZE, Q5_DEV_SIZE, Q5_TEST_SIZE = 200, 1000, 200, 500

# q2: evenly spaced x over [-2pi, 2pi], y = sin(x).
REGRESSION_POINTS = 200
REGRESSION_RANGE = (-2 * math.pi, 2 * math.pi)

# q1: standard-normal (x0, x1) and a bias column, labelled by x0 + 2*x1 - 1 >= 0.
PERCEPTRON_POINTS = 500
