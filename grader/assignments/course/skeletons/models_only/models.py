"""The earlier, models-only version of the project: questions 1-6 in one file.

In this version everything you write goes in this file, models.py; there is no
losses.py or train.py to edit. Each model class holds all of its own code:

    run(self, x)            the model's computation: inputs in, outputs out;
    get_loss(self, x, y)    runs the model on x and returns its loss against y;
    train(self, dataset)    trains the model in place on a dataset from backend.py.

Fill in every place marked *** YOUR CODE HERE ***, and do not rename the classes,
methods or functions below: the autograder finds them by name. To grade your work,
run

    python autograder.py --course models-only

(add ``-q q2``, for instance, to grade one question).

The datasets come from backend.py. Their items are dictionaries
``{'x': features, 'label': target}``, and a DataLoader groups them into batches:

    dataloader = DataLoader(dataset, batch_size=20, shuffle=True)
    for batch in dataloader:
        x, y = batch['x'], batch['label']     # one tensor each, batch first

A note on ``train``: PyTorch's Module already has a method called ``train`` (it
switches a model between training and evaluation mode), and the course's
``train(self, dataset)`` replaces it. So inside your code do not call
``self.train()`` or ``self.eval()`` to switch modes; none of these models needs it.
"""

from torch import no_grad, stack
from torch.utils.data import DataLoader
from torch.nn import Module

# The imports below are everything a solution needs. The autograder warns about any
# import that is not in this file as shipped (instructors may make that a failure).
import torch
from torch.nn import Parameter, Linear
from torch import optim, tensor, tensordot, ones, matmul
from torch.nn.functional import cross_entropy, relu, mse_loss, softmax
from torch import movedim


class PerceptronModel(Module):
    """A binary perceptron (question 1): its labels are 1 and -1."""

    def __init__(self, dimensions):
        """Create the weights.

        Keep them in ``self.w`` as a ``Parameter`` of shape (1, dimensions), so that
        PyTorch and the autograder both see it as the model's single parameter.
        Its starting value does not matter; ``Parameter(ones(1, dimensions))`` will
        do.
        """
        super().__init__()
        "*** YOUR CODE HERE ***"

    def get_weights(self):
        """Return the weight Parameter itself (not a copy of it)."""
        return self.w

    def run(self, x):
        """The perceptron's score for one data point.

        Args:
            x: a tensor of shape (1, dimensions); shape (dimensions,) must work too.
        Returns:
            a tensor holding one number: the dot product of ``self.w`` and x. This
            is the raw score, not yet a class.

        ``tensordot`` or ``matmul`` computes it (mind the shapes).
        """
        "*** YOUR CODE HERE ***"

    def get_prediction(self, x):
        """The class the perceptron gives one data point x (shaped as for ``run``).

        Returns the Python int 1 when the score from ``run`` is zero or more, and
        -1 when it is negative.
        """
        "*** YOUR CODE HERE ***"

    def train(self, dataset):
        """Train the perceptron until it classifies every training point correctly.

        Go over the data one point at a time. Whenever a point is classified
        wrongly, move the weights towards its correct side: add the point times its
        label (1 or -1) to ``self.w``, e.g. ``self.w += label * x``, with x
        reshaped to the weights' shape. Once a whole pass over the data makes no
        mistake, training accuracy is 100%: stop there.

        Args:
            dataset: a PerceptronDataset. Its items are
                {'x': (dimensions,), 'label': (1,)}, so with batch_size=1 a batch
                is {'x': (1, dimensions), 'label': (1, 1)}.
        """
        with no_grad():  # these updates are made by hand, not by gradient descent
            dataloader = DataLoader(dataset, batch_size=1, shuffle=True)
            "*** YOUR CODE HERE ***"


class RegressionModel(Module):
    """A neural network that approximates sin(x) for x in [-2pi, 2pi] (question 2).

    Full marks need a mean squared error of 0.02 or less, averaged over all the
    points of the dataset (there is no validation or test data here).
    """

    def __init__(self):
        """Create the layers, e.g. ``self.hidden = Linear(1, 128)``.

        One or two hidden layers of a hundred or a few hundred units, each followed
        by a ReLU, are plenty. Start small and grow only if you must.
        """
        super().__init__()
        "*** YOUR CODE HERE ***"

    def run(self, x):
        """The predicted y for each x in a batch.

        Args:
            x: a (batch_size, 1) tensor.
        Returns:
            a (batch_size, 1) tensor. Put no ReLU after the last layer: sin(x) is
            negative for half of the inputs, and a ReLU would clip those to 0.
        """
        "*** YOUR CODE HERE ***"

    def get_loss(self, x, y):
        """The loss of the model's predictions for x against the true values y.

        Args:
            x: a (batch_size, 1) tensor of inputs.
            y: a (batch_size, 1) tensor of true outputs, sin(x).
        Returns:
            a tensor holding one number, computed by ``mse_loss`` from ``run(x)``
            and y, and still connected to the model's weights so that
            ``loss.backward()`` reaches them.
        """
        "*** YOUR CODE HERE ***"

    def train(self, dataset):
        """Train the model by gradient descent.

        Make an optimizer once, ``optim.Adam(self.parameters(), lr=...)``, then for
        every batch: ``optimizer.zero_grad()``, ``loss = self.get_loss(x, y)``,
        ``loss.backward()``, ``optimizer.step()``. Repeat over the data for as many
        passes as needed; the training loss tells you when to stop (aim a little
        below 0.02, since the average over a pass trails the model's latest loss).

        Reasonable ranges: learning rate 0.0001 to 0.01; batch size 1 to 128, and
        one that divides the 200 points evenly. If the loss becomes NaN or
        infinite, the learning rate is too high.

        Args:
            dataset: a RegressionDataset of 200 items {'x': (1,), 'label': (1,)}.
        """
        "*** YOUR CODE HERE ***"


class DigitClassificationModel(Module):
    """Classifies 28x28 images of handwritten digits, 0 to 9 (question 3).

    An image arrives as 784 pixel values between 0 and 1 (the rows one after the
    other); the model returns 10 scores, one per digit, a higher score meaning a
    more likely digit. Full marks need 97% accuracy on the test set.
    """

    def __init__(self):
        super().__init__()
        input_size = 28 * 28
        output_size = 10
        "*** YOUR CODE HERE ***"

    def run(self, x):
        """Scores for a batch of images.

        Args:
            x: a (batch_size, 784) tensor.
        Returns:
            a (batch_size, 10) tensor of scores (logits). The last layer has no
            ReLU and no softmax: ``cross_entropy`` applies the softmax itself.
        """
        "*** YOUR CODE HERE ***"

    def get_loss(self, x, y):
        """The loss of the model on a batch.

        Args:
            x: a (batch_size, 784) tensor of images.
            y: a (batch_size, 10) tensor of one-hot labels (a 1 at the true digit).
        Returns:
            a tensor holding one number: ``cross_entropy`` of ``run(x)`` against y
            (it accepts one-hot targets as they are).
        """
        "*** YOUR CODE HERE ***"

    def train(self, dataset):
        """Train the model with Adam, as in question 2.

        ``dataset.get_validation_accuracy()`` measures the model on validation
        digits it does not train on, which helps decide when to stop. The
        autograder scores yet other digits, the test set, so stop a little above
        the 97% needed (97.5% or 98% on validation, say). A good design gets there
        in a handful of passes over the data.

        Args:
            dataset: a DigitClassificationDataset of 60000 items
                {'x': (784,), 'label': (10,) one-hot}.
        """
        "*** YOUR CODE HERE ***"


class LanguageIDModel(Module):
    """A recurrent neural network that tells which of five languages a word is in
    (question 4). Full marks need 81% accuracy on the test words.
    """

    def __init__(self):
        super().__init__()
        # The five languages' alphabets together have 47 characters, so a letter
        # is a one-hot vector of length 47. Use self.num_chars and
        # len(self.languages) rather than the numbers themselves.
        self.num_chars = 47
        self.languages = ["English", "Spanish", "Finnish", "Dutch", "Polish"]
        "*** YOUR CODE HERE ***"

    def run(self, xs):
        """Scores for a batch of words, read one letter at a time.

        Args:
            xs: a (L, batch_size, 47) tensor, or a list of L tensors of shape
                (batch_size, 47). The first dimension is the position in the word:
                xs[0] holds the first letter of every word in the batch, xs[1] the
                second letters, and so on. During training, words shorter than L
                are padded at the end with all-zero letters; when the autograder
                scores the model, all words of a batch are exactly L letters long.
        Returns:
            a (batch_size, 5) tensor of scores, one per language (no softmax).

        Make a hidden state from the first letter with a small network, e.g.
        ``h = relu(self.letter(xs[0]))``. For each later letter x, combine it with
        the previous state through the same layers each time, e.g.
        ``h = relu(self.letter(x) + self.hidden(h))``, so that the state depends
        non-linearly on both. Give the hidden state plenty of units (a few
        hundred). Finally map the last state to 5 scores with a Linear layer.
        """
        "*** YOUR CODE HERE ***"

    def get_loss(self, xs, y):
        """The loss of the model on a batch of words.

        Args:
            xs: words, letters first, as ``run`` receives them: (L, batch_size, 47).
            y: a (batch_size, 5) tensor of one-hot languages.
        Returns:
            a tensor holding one number: ``cross_entropy`` of ``run(xs)`` against y.
        """
        "*** YOUR CODE HERE ***"

    def train(self, dataset):
        """Train the model with Adam.

        A DataLoader batch's 'x' is (batch_size, 10, 47), words first, while
        ``run`` and ``get_loss`` take letters first: pass them
        ``movedim(batch['x'], 0, 1)``, which is (10, batch_size, 47).
        ``dataset.get_validation_accuracy()`` helps decide when to stop; expect
        ten or twenty passes over the data.

        Args:
            dataset: a LanguageIDDataset; items are
                {'x': (10, 47) one-hot letters, 'label': (5,) one-hot}.
        """
        "*** YOUR CODE HERE ***"


def Convolve(input: torch.Tensor, weight: torch.Tensor):
    """The 'valid' 2-D convolution of one matrix by a smaller one (question 5).

    'Valid' means no padding: the weight matrix only visits places where it fits
    entirely inside the input, so the result is smaller than the input. As in deep
    learning libraries, the weights are not flipped.

    Args:
        input: an (H, W) tensor: a single matrix, never a batch.
        weight: an (h, w) tensor, with h <= H and w <= W.
    Returns:
        an (H - h + 1, W - w + 1) tensor whose entry [i, j] is the sum of the
        element-wise product ``input[i:i+h, j:j+w] * weight``.

    Build it from tensor operations of your own: torch's ready-made convolutions
    (torch.nn.functional.conv2d and the like) are not allowed. Keep the result
    connected to ``weight`` (no .item(), no numpy) so that training can learn it.
    """
    input_tensor_dimensions = input.shape
    weight_dimensions = weight.shape
    Output_Tensor = tensor(())
    "*** YOUR CODE HERE ***"


class DigitConvolutionalModel(Module):
    """A small convolutional network for digits (question 5, extra credit).

    ``run`` already convolves each image with a learned 3x3 weight matrix (using
    your ``Convolve``) and flattens the result; what remains is a couple of small
    Linear layers, as in question 3. It trains on a small, easy set of digits:
    full marks need 80% accuracy on them. Expect it to be slower than question 3,
    since your ``Convolve`` is not as optimised as PyTorch's own.
    """

    def __init__(self):
        super().__init__()
        output_size = 10
        self.convolution_weights = Parameter(ones((3, 3)))
        "*** YOUR CODE HERE ***"

    def run(self, x):
        """Scores for a batch of images.

        Args:
            x: a (batch_size, 784) tensor.
        Returns:
            a (batch_size, 10) tensor of scores (no ReLU on the last layer).
        """
        x = x.reshape(len(x), 28, 28)                                      # (B, 28, 28)
        x = stack([Convolve(image, self.convolution_weights) for image in x])  # (B, 26, 26)
        x = x.flatten(start_dim=1)                                         # (B, 676)
        "*** YOUR CODE HERE ***"

    def get_loss(self, x, y):
        """The loss of the model on a batch.

        Args:
            x: a (batch_size, 784) tensor of images.
            y: a (batch_size, 10) tensor of one-hot labels.
        Returns:
            a tensor holding one number: ``cross_entropy`` of ``run(x)`` against y.
        """
        "*** YOUR CODE HERE ***"

    def train(self, dataset):
        """Train the model with Adam, as in question 3.

        Args:
            dataset: a DigitClassificationDataset2: 200 items
                {'x': (784,), 'label': (10,) one-hot}. Its
                ``get_validation_accuracy()`` measures the model on those same 200
                digits, which is what this question grades.
        """
        "*** YOUR CODE HERE ***"


class Attention(Module):
    """Causal scaled dot-product self-attention (question 6).

    ``__init__`` is complete. For an input of shape (B, T, C), with C = layer_size:
        Q, K, V = q_layer(input), k_layer(input), v_layer(input)     # each (B, T, C)
        output = softmax(mask(Q K^T / sqrt(C))) V                      # (B, T, C)
    where the causal mask stops each position t from looking at positions after t.
    Unlike the other models, this class computes its output in ``forward``.
    """

    def __init__(self, layer_size, block_size):
        super().__init__()
        # Use exactly these layers, each for its own matrix (k_layer makes K, and
        # so on): the autograder checks your output against these weights.
        self.k_layer = Linear(layer_size, layer_size)
        self.q_layer = Linear(layer_size, layer_size)
        self.v_layer = Linear(layer_size, layer_size)

        # mask[0, 0, t, s] is 1 where position t may look at position s (s <= t).
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size))
                             .view(1, 1, block_size, block_size))
        self.layer_size = layer_size

    def forward(self, input):
        """Apply attention to ``input`` of shape (B, T, C); return shape (B, T, C).

        Make Q, K and V with the three layers. The scores
        M = Q K^T / sqrt(layer_size) are (B, T, T): ``movedim(K, 1, 2)`` transposes
        each K of the batch and ``matmul`` multiplies. Hide the future with

            M = M.masked_fill(self.mask[:, :, :T, :T] == 0, float('-inf'))[0]

        (the mask slice is (1, 1, T, T); broadcast against the (B, T, T) scores it
        gives a (1, B, T, T) result, and [0] takes that extra leading dimension
        away again), then take ``softmax`` over the last dimension (``dim=-1``) and
        multiply by V.
        """
        B, T, C = input.size()
        "*** YOUR CODE HERE ***"


# Other versions of this project call this class `AttentionBlock`. Both names refer
# to the same class, so code written for either one runs.
AttentionBlock = Attention
