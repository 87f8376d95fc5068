"""An independently written solution to losses.py: the one obvious line each."""

from torch.nn.functional import cross_entropy, mse_loss


def regression_loss(y_pred, y):
    return mse_loss(y_pred, y)


def digitclassifier_loss(y_pred, y):
    return cross_entropy(y_pred, y)


def languageid_loss(y_pred, y):
    return cross_entropy(y_pred, y)


def digitconvolution_loss(y_pred, y):
    return cross_entropy(y_pred, y)


digitconvolution_Loss = digitconvolution_loss
