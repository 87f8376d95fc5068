"""Staff reference solution of the earlier, models-only interface, in which every
model defines BOTH ``run`` and ``forward``, as some students' solutions do.

It computes the same as models.py in this folder. The two methods delegate in both
directions on purpose, so that a grader accepting such solutions is tested on each:

    PerceptronModel, DigitClassificationModel, DigitConvolutionalModel:
        ``run`` computes, ``forward`` calls ``run``;
    RegressionModel, LanguageIDModel, Attention:
        ``forward`` computes, ``run`` calls ``forward``.

``get_loss`` calls ``run`` in some classes and ``self(x)`` (that is, ``forward``) in
others, for the same reason. ``train(self, dataset)`` shadows
``torch.nn.Module.train(mode)`` as in models.py.
"""

from torch import no_grad, stack
from torch.utils.data import DataLoader
from torch.nn import Module

import torch
from torch.nn import Parameter, Linear
from torch import optim, tensor, tensordot, ones, matmul
from torch.nn.functional import cross_entropy, relu, mse_loss, softmax
from torch import movedim


def _adam_epochs(model, dataset, epochs, lr, batch_size, letters_first=False):
    """Train ``model`` in place with Adam on mini-batches of ``dataset`` for
    ``epochs`` passes, the learning rate following a cosine schedule down to 0.

    The loss of a batch is ``model.get_loss(x, y)``. With ``letters_first`` the
    batch's (B, L, 47) words are turned into the (L, B, 47) that ``run`` expects.
    """
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    dataloader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    for _ in range(epochs):
        for batch in dataloader:
            x, y = batch["x"], batch["label"]
            if letters_first:
                x = movedim(x, 0, 1)                 # (B, 10, 47) -> (10, B, 47)
            optimizer.zero_grad()
            loss = model.get_loss(x, y)
            loss.backward()
            optimizer.step()
        scheduler.step()


class PerceptronModel(Module):
    def __init__(self, dimensions):
        super().__init__()
        self.w = Parameter(ones(1, dimensions))

    def get_weights(self):
        return self.w

    def run(self, x):
        return tensordot(self.w.reshape(-1), x.reshape(-1), dims=1)   # ()

    def forward(self, x):
        return self.run(x)

    def get_prediction(self, x):
        return 1 if self(x).item() >= 0 else -1

    def train(self, dataset):
        with no_grad():
            dataloader = DataLoader(dataset, batch_size=1, shuffle=True)
            mistakes = True
            while mistakes:
                mistakes = False
                for batch in dataloader:
                    x, y = batch["x"], batch["label"]          # (1, d), (1, 1)
                    if self.get_prediction(x) != y.item():
                        self.w += y.item() * x.reshape(self.w.shape)
                        mistakes = True


class RegressionModel(Module):
    def __init__(self):
        super().__init__()
        self.hidden_1 = Linear(1, 128)
        self.hidden_2 = Linear(128, 128)
        self.output = Linear(128, 1)

    def forward(self, x):
        h = relu(self.hidden_1(x))                 # (B, 128)
        h = relu(self.hidden_2(h))                 # (B, 128)
        return self.output(h)                      # (B, 1)

    def run(self, x):
        return self.forward(x)

    def get_loss(self, x, y):
        return mse_loss(self.run(x), y)

    def train(self, dataset):
        _adam_epochs(self, dataset, epochs=150, lr=3e-3, batch_size=20)


class DigitClassificationModel(Module):
    def __init__(self):
        super().__init__()
        input_size = 28 * 28
        output_size = 10
        self.hidden = Linear(input_size, 400)
        self.output = Linear(400, output_size)

    def run(self, x):
        return self.output(relu(self.hidden(x)))   # (B, 10)

    def forward(self, x):
        return self.run(x)

    def get_loss(self, x, y):
        return cross_entropy(self(x), y)

    def train(self, dataset):
        _adam_epochs(self, dataset, epochs=4, lr=2e-3, batch_size=100)


class LanguageIDModel(Module):
    def __init__(self):
        super().__init__()
        self.num_chars = 47
        self.languages = ["English", "Spanish", "Finnish", "Dutch", "Polish"]
        hidden = 256
        self.letter = Linear(self.num_chars, hidden)
        self.recur = Linear(hidden, hidden, bias=False)
        self.output = Linear(hidden, len(self.languages))

    def forward(self, xs):
        h = None
        for x in xs:                                               # x: (B, 47)
            z = self.letter(x) if h is None else self.letter(x) + self.recur(h)
            h_next = relu(z)                                       # (B, hidden)
            # Padding letters are all zero: keep the state of words that ended.
            is_letter = x.sum(dim=1, keepdim=True) > 0             # (B, 1)
            h = h_next if h is None else torch.where(is_letter, h_next, h)
        return self.output(h)                                      # (B, 5)

    def run(self, xs):
        return self(xs)

    def get_loss(self, xs, y):
        return cross_entropy(self(xs), y)

    def train(self, dataset):
        _adam_epochs(self, dataset, epochs=10, lr=3e-3, batch_size=128, letters_first=True)


def Convolve(input: torch.Tensor, weight: torch.Tensor):
    input_tensor_dimensions = input.shape
    weight_dimensions = weight.shape
    H, W = input_tensor_dimensions
    h, w = weight_dimensions
    out_h, out_w = H - h + 1, W - w + 1
    Output_Tensor = torch.zeros(out_h, out_w, dtype=input.dtype)
    # One shifted copy of the input per kernel entry: h*w tensor operations rather
    # than one per output pixel.
    for i in range(h):
        for j in range(w):
            Output_Tensor = Output_Tensor + weight[i, j] * input[i:i + out_h, j:j + out_w]
    return Output_Tensor                                           # (H-h+1, W-w+1)


class DigitConvolutionalModel(Module):
    def __init__(self):
        super().__init__()
        output_size = 10
        self.convolution_weights = Parameter(ones((3, 3)))
        self.hidden = Linear(26 * 26, 128)
        self.output = Linear(128, output_size)

    def run(self, x):
        x = x.reshape(len(x), 28, 28)                                      # (B, 28, 28)
        x = stack([Convolve(image, self.convolution_weights) for image in x])  # (B, 26, 26)
        x = x.flatten(start_dim=1)                                         # (B, 676)
        return self.output(relu(self.hidden(x)))                           # (B, 10)

    def forward(self, x):
        return self.run(x)

    def get_loss(self, x, y):
        return cross_entropy(self.run(x), y)

    def train(self, dataset):
        _adam_epochs(self, dataset, epochs=12, lr=2e-3, batch_size=50)


class Attention(Module):
    def __init__(self, layer_size, block_size):
        super().__init__()
        self.k_layer = Linear(layer_size, layer_size)
        self.q_layer = Linear(layer_size, layer_size)
        self.v_layer = Linear(layer_size, layer_size)
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size))
                             .view(1, 1, block_size, block_size))
        self.layer_size = layer_size

    def forward(self, input):
        B, T, C = input.size()
        q, k, v = self.q_layer(input), self.k_layer(input), self.v_layer(input)  # (B, T, C)
        scores = matmul(q, movedim(k, 1, 2)) / self.layer_size ** 0.5            # (B, T, T)
        scores = scores.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))[0]
        return matmul(softmax(scores, dim=-1), v)                                # (B, T, C)

    def run(self, input):
        return self.forward(input)


AttentionBlock = Attention
