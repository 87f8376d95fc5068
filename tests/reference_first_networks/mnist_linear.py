"""Staff solution of "first networks", part 2: a fully connected network on MNIST."""

import torch
from torch import nn
from torch.utils.data import DataLoader


def standardize(train_images, test_images):
    mean, std = train_images.mean(), train_images.std()
    return (train_images - mean) / std, (test_images - mean) / std


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.layers(x)


def evaluate(model, dataset, batches=150, batch_size=64):
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    correct = total = 0
    with torch.no_grad():
        for i, (x, y) in enumerate(loader):
            if i == batches:
                break
            correct += (model(x).argmax(dim=1) == y).sum().item()
            total += len(y)
    return 100 * correct / total


def train_mnist(model, train_data, test_data, eval_every=500):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    loader = DataLoader(train_data, batch_size=64, shuffle=True)
    history = []
    for epoch in range(2):
        for batch, (x, y) in enumerate(loader):
            if batch % eval_every == 0:
                train_accuracy, test_accuracy = evaluate(model, train_data), evaluate(model, test_data)
                print(f"[{epoch:2}][{batch:4}] -> {train_accuracy:.3f}% training accuracy "
                      f"{test_accuracy:.3f}% testing accuracy")
                history.append((epoch, batch, train_accuracy, test_accuracy))
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
    return history


def misclassified(model, images, labels):
    with torch.no_grad():
        predicted = model(images).argmax(dim=1)
    return torch.nonzero(predicted != labels).flatten()
