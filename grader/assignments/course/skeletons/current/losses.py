"""Loss functions for questions 2-5. Fill in every place marked *** YOUR CODE HERE ***.

Each function takes the model's output and the batch's labels and returns the loss
as a single-number tensor, still connected to the model (so ``loss.backward()``
reaches its weights). The autograder checks that the loss depends on both inputs.
"""

# The imports below are everything a solution needs. The autograder warns about any
# import that is not in this file as shipped (instructors may make that a failure).
from torch.nn.functional import cross_entropy, mse_loss


def regression_loss(y_pred, y):
    """Mean squared error between predictions and targets (question 2).

    Args:
        y_pred: (batch_size, 1) tensor, the model's output.
        y: (batch_size, 1) tensor of true values.
    Returns:
        a tensor holding one number. Use ``mse_loss``.
    """
    "*** YOUR CODE HERE ***"


def digitclassifier_loss(y_pred, y):
    """Cross-entropy loss for digit classification (question 3).

    Args:
        y_pred: (batch_size, 10) tensor of scores (logits).
        y: (batch_size, 10) one-hot tensor of true digits.
    Returns:
        a tensor holding one number. Use ``cross_entropy``: it accepts one-hot
        targets as they are.
    """
    "*** YOUR CODE HERE ***"


def languageid_loss(y_pred, y):
    """Cross-entropy loss for language identification (question 4).

    Args:
        y_pred: (batch_size, 5) tensor of scores.
        y: (batch_size, 5) one-hot tensor of true languages.
    Returns:
        a tensor holding one number.
    """
    "*** YOUR CODE HERE ***"


def digitconvolution_loss(y_pred, y):
    """Cross-entropy loss for the convolutional digit classifier (question 5).

    Args:
        y_pred: (batch_size, 10) tensor of scores.
        y: (batch_size, 10) one-hot tensor of true digits.
    Returns:
        a tensor holding one number.
    """
    "*** YOUR CODE HERE ***"


# Some published versions of this project spell this function
# `digitconvolution_Loss`. Both names refer to the same function, so code written
# for either version runs; define (or change) only the one above.
digitconvolution_Loss = digitconvolution_loss
