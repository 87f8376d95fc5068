"""An independently written solution to train.py (for tests/test_similarity.py)."""

from torch import no_grad, movedim
from torch.utils.data import DataLoader

from torch import optim, tensor
from losses import (regression_loss, digitclassifier_loss, languageid_loss,
                    digitconvolution_loss)


def train_perceptron(model, dataset):
    with no_grad():
        dataloader = DataLoader(dataset, batch_size=1, shuffle=True)
        converged = False
        while not converged:
            errors = 0
            for item in dataloader:
                point = item["x"]
                label = int(item["label"][0][0])
                if model.get_prediction(point) == label:
                    continue
                errors += 1
                model.w.data = model.w.data + label * point.view(1, -1)
            converged = errors == 0


def train_regression(model, dataset):
    loader = DataLoader(dataset, batch_size=25, shuffle=True)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    epoch = 0
    while True:
        total, seen = 0.0, 0
        for sample in loader:
            opt.zero_grad()
            err = regression_loss(model(sample["x"]), sample["label"])
            err.backward()
            opt.step()
            total += float(err) * len(sample["x"])
            seen += len(sample["x"])
        epoch += 1
        if total / seen < 0.005 or epoch > 2000:
            break


def train_digitclassifier(model, dataset):
    model.train()
    loader = DataLoader(dataset, batch_size=64, shuffle=True)
    opt = optim.Adam(model.parameters(), lr=0.001)
    for epoch in range(6):
        for sample in loader:
            opt.zero_grad()
            digitclassifier_loss(model(sample["x"]), sample["label"]).backward()
            opt.step()
        if dataset.get_validation_accuracy() > 0.975:
            break


def train_languageid(model, dataset):
    loader = DataLoader(dataset, batch_size=32, shuffle=True)
    opt = optim.Adam(model.parameters(), lr=0.002)
    best = 0.0
    for epoch in range(15):
        for sample in loader:
            words = movedim(sample["x"], 0, 1)
            opt.zero_grad()
            languageid_loss(model(words), sample["label"]).backward()
            opt.step()
        accuracy = dataset.get_validation_accuracy()
        best = max(best, accuracy)
        if best >= 0.85:
            return


def train_digitconvolution(model, dataset):
    loader = DataLoader(dataset, batch_size=10, shuffle=True)
    opt = optim.Adam(model.parameters(), lr=0.005)
    rounds = 0
    while dataset.get_validation_accuracy() < 0.85 and rounds < 40:
        for sample in loader:
            opt.zero_grad()
            digitconvolution_loss(model(sample["x"]), sample["label"]).backward()
            opt.step()
        rounds += 1


Train_DigitConvolution = train_digitconvolution
