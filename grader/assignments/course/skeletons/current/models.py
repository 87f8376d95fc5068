"""Models for questions 1-6. Fill in every place marked *** YOUR CODE HERE ***.

Do not rename the classes or functions below: the autograder looks them up by name.
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
    """A binary perceptron (question 1)."""

    def __init__(self, dimensions):
        """Create the weight vector.

        Store it as ``self.w``, a ``Parameter`` of shape (1, dimensions): that is how
        PyTorch (and the autograder) recognises it as the model's one parameter.
        Any starting value works, e.g. ``Parameter(ones(1, dimensions))``.
        """
        super().__init__()
        "*** YOUR CODE HERE ***"

    def get_weights(self):
        """Return the weight Parameter (the object itself, not a copy)."""
        return self.w

    def forward(self, x):
        """The perceptron's score for one point: the dot product of ``self.w`` and x.

        Args:
            x: a (1, dimensions) tensor; (dimensions,) must work too.
        Returns:
            a tensor holding the single score (a number, not a prediction).

        Hint: ``tensordot`` or ``matmul``; call this as ``self(x)``.
        """
        "*** YOUR CODE HERE ***"

    def get_prediction(self, x):
        """The predicted class of one point x: 1 if its score is >= 0, else -1.

        Returns a Python int (1 or -1).
        """
        "*** YOUR CODE HERE ***"


class RegressionModel(Module):
    """A network that learns sin(x) for x in [-2pi, 2pi] (question 2)."""

    def __init__(self):
        """Create the layers, e.g. ``self.hidden = Linear(1, 64)``.

        A network with one or two hidden layers of 50-300 units and a ReLU after
        each hidden layer is enough.
        """
        super().__init__()
        "*** YOUR CODE HERE ***"

    def forward(self, x):
        """Predicted y for a batch of x.

        Args:
            x: (batch_size, 1) tensor.
        Returns:
            (batch_size, 1) tensor. The last layer has no ReLU: sin is negative too.
        """
        "*** YOUR CODE HERE ***"


class DigitClassificationModel(Module):
    """Classifies 28x28 handwritten digits (question 3).

    Inputs are 784 pixel values in [0, 1] (the image row by row); outputs are 10
    scores, one per digit, higher meaning more likely. To pass, the model must
    reach 97% accuracy on the test set.
    """

    def __init__(self):
        super().__init__()
        input_size = 28 * 28
        output_size = 10
        "*** YOUR CODE HERE ***"

    def forward(self, x):
        """Scores for a batch of images.

        Args:
            x: (batch_size, 784) tensor.
        Returns:
            (batch_size, 10) tensor of scores (logits): no ReLU or softmax on the
            last layer; ``cross_entropy`` applies the softmax itself.
        """
        "*** YOUR CODE HERE ***"


class LanguageIDModel(Module):
    """A recurrent network that tells which language a word is in (question 4)."""

    def __init__(self):
        super().__init__()
        # The five languages' alphabets together have 47 characters; a letter is a
        # one-hot vector of length 47. Use self.num_chars and len(self.languages).
        self.num_chars = 47
        self.languages = ["English", "Spanish", "Finnish", "Dutch", "Polish"]
        "*** YOUR CODE HERE ***"

    def forward(self, xs):
        """Scores for a batch of words, read one letter at a time.

        Args:
            xs: (L, batch_size, 47) tensor, or a list of L tensors of shape
                (batch_size, 47): the batch's first letters, then their second
                letters, and so on. During training, words shorter than L are
                padded with all-zero letters at the end; when the autograder
                scores the model, every word in a batch has exactly L letters.
        Returns:
            (batch_size, 5) tensor of scores, one per language (no softmax).

        Hint: compute a hidden state from the first letter, then for each later
        letter combine it with the previous hidden state using the same layers,
        e.g. h = relu(self.letter(x) + self.hidden(h)). Finish with a Linear layer
        that maps the last hidden state to 5 scores.
        """
        "*** YOUR CODE HERE ***"


def Convolve(input: torch.Tensor, weight: torch.Tensor):
    """The 'valid' 2-D convolution (as in deep learning: no kernel flip) of one matrix.

    Args:
        input: (H, W) tensor.
        weight: (h, w) tensor with h <= H and w <= W.
    Returns:
        (H - h + 1, W - w + 1) tensor whose entry [i, j] is the sum of
        ``input[i:i+h, j:j+w] * weight``.

    Write it yourself with tensor operations: built-in convolutions
    (torch.nn.functional.conv2d and friends) are not allowed. Keep the result
    connected to ``weight`` (no .item() or numpy) so that gradients flow into it.
    """
    input_tensor_dimensions = input.shape
    weight_dimensions = weight.shape
    Output_Tensor = tensor(())
    "*** YOUR CODE HERE ***"
    return Output_Tensor


class DigitConvolutionalModel(Module):
    """A small convolutional network for digits (question 5).

    ``forward`` already applies one 3x3 convolution (your ``Convolve``) to each
    image and flattens the result to (batch_size, 676). Add a couple of small
    Linear layers after it; 80% accuracy on the 200 digits it trains on is needed
    to pass.
    """

    def __init__(self):
        super().__init__()
        output_size = 10
        self.convolution_weights = Parameter(ones((3, 3)))
        "*** YOUR CODE HERE ***"

    def forward(self, x):
        """Scores for a batch of images: x is (batch_size, 784), returns
        (batch_size, 10)."""
        x = x.reshape(len(x), 28, 28)                                      # (B, 28, 28)
        x = stack([Convolve(image, self.convolution_weights) for image in x])  # (B, 26, 26)
        x = x.flatten(start_dim=1)                                         # (B, 676)
        "*** YOUR CODE HERE ***"


class AttentionBlock(Module):
    """Causal scaled dot-product self-attention (question 6).

    ``__init__`` is complete. For an input (B, T, C) with C = layer_size:
        Q, K, V = q_layer(input), k_layer(input), v_layer(input)     # each (B, T, C)
        output = softmax(mask(Q K^T / sqrt(C))) V                      # (B, T, C)
    where the causal mask hides, for each position t, the positions after t.
    """

    def __init__(self, layer_size, block_size):
        super().__init__()
        # Use exactly these layers, each for its own matrix (k_layer makes K, ...):
        # the autograder checks your output against these weights.
        self.k_layer = Linear(layer_size, layer_size)
        self.q_layer = Linear(layer_size, layer_size)
        self.v_layer = Linear(layer_size, layer_size)

        # mask[0, 0, t, s] is 1 where position t may look at position s (s <= t).
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size))
                             .view(1, 1, block_size, block_size))
        self.layer_size = layer_size

    def forward(self, input):
        """Apply attention to ``input`` of shape (B, T, C); return (B, T, C).

        Steps: make Q, K and V; the scores M = Q K^T / sqrt(layer_size) are
        (B, T, T) (``movedim(K, 1, 2)`` transposes K per batch; ``matmul``
        multiplies). Hide future positions with

            M = M.masked_fill(self.mask[:, :, :T, :T] == 0, float('-inf'))[0]

        (shapes: the mask slice is (1, 1, T, T); masked_fill broadcasts it against
        the (B, T, T) scores and returns (1, B, T, T); the [0] drops that extra
        leading dimension, giving (B, T, T) again), then apply ``softmax`` over the last dimension (``dim=-1``) and multiply
        by V.
        """
        B, T, C = input.size()
        "*** YOUR CODE HERE ***"


# Some published versions of this project call the attention class `Attention`.
# Both names refer to the same class, so code written for either version runs.
Attention = AttentionBlock
