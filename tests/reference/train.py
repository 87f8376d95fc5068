"""Staff reference solution for train.py."""

from torch import no_grad, movedim
from torch.utils.data import DataLoader

from torch import optim, tensor
from losses import (regression_loss, digitclassifier_loss, languageid_loss,
                    digitconvolution_loss)


def train_perceptron(model, dataset):
    with no_grad():
        dataloader = DataLoader(dataset, batch_size=1, shuffle=True)
        mistakes = True
        while mistakes:
            mistakes = False
            for batch in dataloader:
                x, y = batch["x"], batch["label"]
                if model.get_prediction(x) != y.item():
                    model.w += y.item() * x.reshape(model.w.shape)
                    mistakes = True


def _fit(model, dataset, loss_fn, epochs, lr, batch_size, letters_first=False,
         stop_at_accuracy=None):
    """Adam over mini-batches; returns after `epochs` or once validation accuracy
    reaches `stop_at_accuracy` (checked after each epoch)."""
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    dataloader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    for _ in range(epochs):
        for batch in dataloader:
            x, y = batch["x"], batch["label"]
            if letters_first:
                x = movedim(x, 0, 1)                 # (B, 10, 47) -> (10, B, 47)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        scheduler.step()
        if stop_at_accuracy is not None and dataset.get_validation_accuracy() >= stop_at_accuracy:
            return


def train_regression(model, dataset):
    _fit(model, dataset, regression_loss, epochs=150, lr=3e-3, batch_size=20)


def train_digitclassifier(model, dataset):
    model.train()
    _fit(model, dataset, digitclassifier_loss, epochs=4, lr=2e-3, batch_size=100)


def train_languageid(model, dataset):
    _fit(model, dataset, languageid_loss, epochs=10, lr=3e-3, batch_size=128,
         letters_first=True)


def train_digitconvolution(model, dataset):
    _fit(model, dataset, digitconvolution_loss, epochs=12, lr=2e-3, batch_size=50)


Train_DigitConvolution = train_digitconvolution
