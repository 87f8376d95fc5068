"""Staff solution: the provided convolutional network, trained with Adam."""

import numpy as np
import torch
from torch import nn


class CNN(nn.Module):
    """Two convolution + pooling stages, then three fully connected layers:
    (B, 1, 28, 28) -> conv 5x5, 6 channels -> (B, 6, 24, 24) -> max-pool 2 -> (B, 6, 12, 12)
    -> conv 5x5, 16 channels -> (B, 16, 8, 8) -> max-pool 2 -> (B, 16, 4, 4) -> flatten 256
    -> 120 -> 84 -> 10 scores (ReLU between)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))        # (B, 6, 12, 12)
        x = self.pool(torch.relu(self.conv2(x)))        # (B, 16, 4, 4)
        x = torch.flatten(x, 1)                         # (B, 256)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)                              # (B, 10)


def train_cnn(model, dataset, epochs=15, learning_rate=0.001, batch_size=256):
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    for epoch in range(epochs):
        for images, labels in dataset.batches(batch_size):
            x = torch.from_numpy(images).reshape(-1, 1, 28, 28)
            y = torch.from_numpy(np.argmax(labels, axis=1))
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        dataset.accuracy(model, "validation")
