"""Training loops for questions 1-5. Fill in every place marked *** YOUR CODE HERE ***.

Every function receives a model (from models.py) and a dataset (from backend.py)
and trains the model in place; nothing needs to be returned. Datasets yield
dictionaries ``{'x': features, 'label': target}``; wrap them in a DataLoader:

    dataloader = DataLoader(dataset, batch_size=64, shuffle=True)
    for batch in dataloader:
        x, y = batch['x'], batch['label']

A gradient step is: ``optimizer.zero_grad()``, ``loss = <loss>(model(x), y)``,
``loss.backward()``, ``optimizer.step()``, with an optimizer such as
``optim.Adam(model.parameters(), lr=1e-3)``.
"""

from torch import no_grad, movedim
from torch.utils.data import DataLoader

# The imports below are everything a solution needs. The autograder warns about any
# import that is not in this file as shipped (instructors may make that a failure).
from torch import optim, tensor
from losses import (regression_loss, digitclassifier_loss, languageid_loss,
                    digitconvolution_loss)


def train_perceptron(model, dataset):
    """Train a PerceptronModel until it classifies every point correctly (question 1).

    Loop over the data one point at a time. When a point (x, y) is misclassified
    (``model.get_prediction(x) != y``), move the weights towards it:
    ``model.w += y * x`` (y is 1 or -1). Stop after a full pass without mistakes.

    Args:
        model: a PerceptronModel.
        dataset: items {'x': (dimensions,), 'label': (1,)}; with batch_size=1 a
            batch is {'x': (1, dimensions), 'label': (1, 1)}.
    """
    with no_grad():  # the perceptron changes its weights by hand, not by gradients
        dataloader = DataLoader(dataset, batch_size=1, shuffle=True)
        "*** YOUR CODE HERE ***"


def train_regression(model, dataset):
    """Train a RegressionModel to fit sin(x) (question 2).

    Full marks need a mean squared error of at most 0.02 over the dataset; the
    training loss is a good guide for when to stop (leave a little margin: the
    average over an epoch lags behind the model's loss at its end).

    Args:
        model: a RegressionModel.
        dataset: 200 items {'x': (1,), 'label': (1,)}.
    """
    "*** YOUR CODE HERE ***"


def train_digitclassifier(model, dataset):
    """Train a DigitClassificationModel (question 3).

    ``dataset.get_validation_accuracy()`` scores the model on held-out digits;
    the test digits that the autograder uses are different, so aim a little higher
    than the 97% needed (e.g. stop once validation accuracy passes 97.5%).

    Args:
        model: a DigitClassificationModel.
        dataset: 60000 items {'x': (784,), 'label': (10,) one-hot}.
    """
    model.train()
    "*** YOUR CODE HERE ***"


def train_languageid(model, dataset):
    """Train a LanguageIDModel (question 4).

    A batch's 'x' is (batch_size, 10, 47); the model reads letters along the
    first dimension, so pass it ``movedim(batch['x'], 0, 1)``, which is
    (10, batch_size, 47). ``dataset.get_validation_accuracy()`` helps decide
    when to stop (81% on the test words is needed).

    Args:
        model: a LanguageIDModel.
        dataset: items {'x': (10, 47), 'label': (5,) one-hot}.
    """
    "*** YOUR CODE HERE ***"


def train_digitconvolution(model, dataset):
    """Train a DigitConvolutionalModel on a small subset of the digits (question 5).

    Args:
        model: a DigitConvolutionalModel.
        dataset: 200 items {'x': (784,), 'label': (10,) one-hot}. Here
            ``dataset.get_validation_accuracy()`` measures the model on those same
            200 digits, which is what question 5 grades (80% needed).
    """
    "*** YOUR CODE HERE ***"


# Some published versions of this project call this function
# `Train_DigitConvolution`. Both names refer to the same function, so code written
# for either version runs; define (or change) only the one above.
Train_DigitConvolution = train_digitconvolution
