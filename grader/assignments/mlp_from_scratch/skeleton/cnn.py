"""Part 2: a small convolutional network in torch.

``CNN`` is provided: describe it in your report (channels, kernel sizes, strides,
padding, pooling, layer sizes). Write ``train_cnn``.

Run `python autograder.py -q q5` to check your work.
"""

import numpy as np
import torch
from torch import nn


class CNN(nn.Module):
    """Two convolution + pooling stages, then three fully connected layers."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        """x: (B, 1, 28, 28) images. Returns (B, 10) scores."""
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def train_cnn(model, dataset):
    """Train ``model`` on ``dataset.train_images`` / ``dataset.train_labels`` (see
    mlp_data.py): batches of 256, learning rate 0.001, the cross-entropy loss. The
    images are (B, 784) numpy arrays: reshape them to (B, 1, 28, 28) tensors. You
    may reuse ``dataset.batches(256)`` from part 1 rather than a DataLoader."""
    "*** YOUR CODE HERE ***"
