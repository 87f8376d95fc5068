"""Figures of trained models, drawn by the judge from plain numpy arrays.

One function per figure. Each takes arrays (no model, no sandbox) and returns a
``Drawn``: the matplotlib figure and the numbers it shows, so that tests and callers
can check that a picture says what the grader measured. Figures are built on an Agg
canvas (never pyplot), so drawing needs no display and opens no window.

Colours are safe for colour-blind readers: the Okabe-Ito palette for lines and
markers (and markers differ in shape too), 'cividis' for amounts, 'PuOr' for signed
values. Every figure has a title and labelled axes, and is sized to be read at 100%.
grader/figures/plans.py decides which figures a question gets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

# Okabe & Ito (2008), "Color Universal Design".
BLACK, ORANGE, SKY, GREEN = "#000000", "#E69F00", "#56B4E9", "#009E73"
BLUE, VERMILLION, PURPLE, GREY = "#0072B2", "#D55E00", "#CC79A7", "#7F7F7F"
AMOUNTS, SIGNED = "cividis", "PuOr"
DPI = 100


@dataclass
class Drawn:
    """A figure and the numbers it shows (e.g. ``data['matrix']``)."""
    figure: Figure
    data: dict = field(default_factory=dict)


def new_figure(width: float, height: float) -> Figure:
    """An off-screen figure of ``width`` x ``height`` inches at DPI."""
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_png(figure: Figure, path: Path, dpi: int = DPI) -> Path:
    """Write ``figure`` as a PNG, through a temporary file so that nobody opens a
    half-written picture; returns ``path``."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        figure.savefig(partial, format="png", dpi=dpi)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _two_decimals(value: float) -> str:
    """'0.25'; tiny negative numbers (rounding noise) read '0.00', not '-0.00'."""
    return f"{0.0 if abs(value) < 0.005 else value:.2f}"


def _cell_text_colour(value: float, low: float, high: float) -> str:
    """Black on the light end of cividis, white on the dark end."""
    share = 0.0 if high <= low else (value - low) / (high - low)
    return "black" if share > 0.55 else "white"


# ------------------------------------------------------------------ q1

def perceptron_figure(points: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> Drawn:
    """The training points and the final boundary w0*x0 + w1*x1 + w2 = 0.

    Args:
        points: (N, 2) coordinates x0, x1 (the bias column left out).
        labels: (N,) +1 or -1.
        weights: (3,) the trained weights (the last one multiplies the bias 1).
    Returns data: 'accuracy' (the rule of get_prediction: score >= 0 means +1) and
    'mistakes', the (N,) mask of misclassified points.
    """
    w = np.asarray(weights, dtype=np.float64).reshape(3)
    predicted = np.where(points @ w[:2] + w[2] >= 0, 1.0, -1.0)             # (N,)
    mistakes = predicted != labels
    figure = new_figure(6.4, 5.6)
    ax = figure.add_subplot()
    low, high = points.min(axis=0) - 0.3, points.max(axis=0) + 0.3
    ax.scatter(*points[labels > 0].T, s=16, color=BLUE, marker="o", label="label +1")
    ax.scatter(*points[labels < 0].T, s=16, color=ORANGE, marker="s", label="label -1")
    ax.scatter(*points[mistakes].T, s=80, facecolors="none", edgecolors=BLACK,
               linewidths=1.4, label=f"misclassified ({int(mistakes.sum())})")
    xs = np.array([low[0], high[0]])
    if w[1] != 0:
        ax.plot(xs, -(w[0] * xs + w[2]) / w[1], color=BLACK, lw=2, label="boundary")
    elif w[0] != 0:   # w1 = 0: the vertical line x0 = -w2 / w0
        ax.axvline(-w[2] / w[0], color=BLACK, lw=2, label="boundary")
    accuracy = float(np.mean(~mistakes))
    ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), xlabel="x0", ylabel="x1",
           title=f"Perceptron: final boundary, training accuracy {accuracy:.1%} "
                 f"on {len(points)} points")
    ax.legend(loc="lower left", fontsize=9, framealpha=0.9)
    return Drawn(figure, {"accuracy": accuracy, "mistakes": mistakes})


# ------------------------------------------------------------------ q2

def regression_figure(train_x: np.ndarray, train_predictions: np.ndarray,
                      fresh_x: np.ndarray, fresh_predictions: np.ndarray) -> Drawn:
    """The fitted curve against sin(x): the model at the dataset's x (a line) and at
    new x (crosses), with both mean squared errors.

    Args: (N,) and (M,) arrays of x and the model's predictions there.
    Returns data: 'curve_x', 'curve_y' (the line's points, sorted by x), 'mse' and
    'fresh_mse'.
    """
    order = np.argsort(train_x)
    curve_x, curve_y = train_x[order], train_predictions[order]
    mse = float(np.mean((train_predictions - np.sin(train_x)) ** 2))
    fresh_mse = float(np.mean((fresh_predictions - np.sin(fresh_x)) ** 2))
    figure = new_figure(8.0, 4.8)
    ax = figure.add_subplot()
    dense = np.linspace(curve_x[0], curve_x[-1], 600)
    ax.plot(dense, np.sin(dense), "--", color=GREY, lw=2, label="target sin(x)")
    ax.plot(curve_x, curve_y, "-o", color=BLUE, lw=1.6, ms=2.5,
            label=f"model at the {len(train_x)} training x (MSE {mse:.4f})")
    ax.plot(fresh_x, fresh_predictions, "x", color=VERMILLION, ms=5, mew=1.2,
            label=f"model at {len(fresh_x)} new x (MSE {fresh_mse:.4f})")
    bottom = min(-1.6, float(np.min(curve_y)) - 0.2)
    ax.plot(curve_x, np.full_like(curve_x, bottom + 0.05), "|", color=BLUE, ms=6)
    ax.plot(fresh_x, np.full_like(fresh_x, bottom + 0.2), "|", color=VERMILLION, ms=6)
    ax.set(xlabel="x", ylabel="y", ylim=(bottom, max(1.6, float(np.max(curve_y)) + 0.2)),
           title=f"Regression: mean squared error {mse:.4f} on the training x, "
                 f"{fresh_mse:.4f} on new x")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=9, framealpha=0.9)
    return Drawn(figure, {"curve_x": curve_x, "curve_y": curve_y, "mse": mse,
                          "fresh_mse": fresh_mse})


# ------------------------------------------------------------------ q3, q4

def confusion_figure(matrix: np.ndarray, class_names: list[str], title: str,
                     axis_name: str) -> Drawn:
    """A confusion matrix: row = true class, column = predicted class, each cell
    annotated with its count and shaded by its share of the row.

    Args:
        matrix: (K, K) int counts (grader/checks/classifier.py's confusion_matrix).
        class_names: one name per class.
        title: what was classified, e.g. 'Digits (test set)'.
        axis_name: e.g. 'digit' or 'language'.
    Returns data: 'matrix' (K, K) int counts, and 'accuracy'.
    """
    classes = len(class_names)
    matrix = np.asarray(matrix, dtype=np.int64).reshape(classes, classes)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = 6.6 if classes > 6 else 5.6
    figure = new_figure(size + 0.8, size)
    ax = figure.add_subplot()
    # A power norm lifts the rare confusions off the dark end of the colour map.
    norm = PowerNorm(0.4, vmin=0, vmax=1)
    image = ax.imshow(shares, cmap=AMOUNTS, norm=norm)
    shades = np.asarray(norm(shares))                                 # (K, K) in [0, 1]
    for (row, column), count in np.ndenumerate(matrix):
        ax.text(column, row, str(count), ha="center", va="center", fontsize=9,
                color=_cell_text_colour(shades[row, column], 0, 1))
    ax.set_xticks(range(classes), class_names, rotation=30 if classes <= 6 else 0)
    ax.set_yticks(range(classes), class_names)
    correct, total = int(np.trace(matrix)), int(matrix.sum())
    accuracy = correct / total if total else 0.0
    ax.set(xlabel=f"predicted {axis_name}", ylabel=f"true {axis_name}",
           title=f"{title}: {correct} of {total} correct ({accuracy:.2%})")
    figure.colorbar(image, ax=ax, shrink=0.8, label="share of the true class",
                    format=PercentFormatter(1.0))
    return Drawn(figure, {"matrix": matrix, "accuracy": accuracy})


def confident_mistakes_figure(images: np.ndarray, labels: np.ndarray,
                              probabilities: np.ndarray, count: int = 25) -> Drawn:
    """The ``count`` misclassified digits the model was surest of, each titled with
    the predicted digit, its probability and the true digit.

    Args:
        images: (N, 784) pixels in [0, 1].
        labels: (N,) true digits.
        probabilities: (N, 10) the model's softmax.
    Returns data: 'indices', the rows shown, most confident first.
    """
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities[np.arange(len(labels)), predicted]
    wrong = np.flatnonzero(predicted != labels)
    shown = wrong[np.argsort(-confidence[wrong], kind="stable")][:count]
    side = 5
    figure = new_figure(8.0, 9.0)
    axes = figure.subplots(side, side).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, row in zip(axes, shown):
        ax.imshow(images[row].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"predicted {predicted[row]} ({confidence[row]:.0%})\ntrue {labels[row]}",
                     fontsize=9)
    if len(shown) == 0:
        axes[len(axes) // 2].text(0.5, 0.5, "no test digit is misclassified", ha="center",
                                  va="center", fontsize=12)
    figure.suptitle(f"Digits: the {len(shown)} most confidently wrong of {len(wrong)} "
                    f"misclassified test digits", fontsize=12)
    return Drawn(figure, {"indices": shown})


def templates_figure(weights: np.ndarray, layer_units: int, count: int = 24) -> Drawn:
    """The first layer's weights, one 28x28 image per unit (the first ``count``).

    Args:
        weights: (rows, 784), the first rows of the weight of the first Linear(784, k).
        layer_units: k, the layer's number of units.
    Returns data: 'units', the number of units shown.
    """
    units = min(count, len(weights))
    columns = 6
    rows = max(1, -(-units // columns))
    figure = new_figure(8.0, 1.45 * rows + 0.9)
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for ax in axes:
        ax.set_axis_off()
    for unit, ax in enumerate(axes[:units]):
        template = weights[unit].reshape(28, 28)
        limit = float(np.abs(template).max()) or 1.0
        ax.imshow(template, cmap=SIGNED, vmin=-limit, vmax=limit)
        ax.set_title(f"unit {unit}", fontsize=9)
    figure.suptitle(f"Digits: first layer Linear(784, {layer_units}), the weights of its "
                    f"first {units} units as 28x28 images\npurple = positive weight, orange = "
                    "negative (each image scaled to its own largest weight)", fontsize=11)
    return Drawn(figure, {"units": units})


def validation_figure(history: np.ndarray, what: str) -> Drawn:
    """Validation accuracy against epochs, from ``get_validation_accuracy()`` calls.

    Args:
        history: (n, 2) rows of (epochs read before the call, accuracy).
        what: the question, e.g. 'Digits'.
    When the epochs do not increase (the data was read elsewhere, e.g. by
    DataLoader workers), the x axis is the call number instead.
    Returns data: 'x', 'accuracy'.
    """
    epochs, accuracy = history[:, 0], history[:, 1]
    by_epoch = len(epochs) > 0 and bool(np.all(np.diff(epochs) > 0)) and epochs[-1] > 0
    x = epochs if by_epoch else np.arange(1, len(epochs) + 1)
    figure = new_figure(6.8, 4.2)
    ax = figure.add_subplot()
    ax.plot(x, accuracy, "-o", color=BLUE, ms=4)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set(xlabel="epochs of training data read" if by_epoch
           else "call of get_validation_accuracy()", ylabel="validation accuracy",
           title=f"{what}: validation accuracy during training (last {accuracy[-1]:.2%})")
    ax.grid(alpha=0.3)
    return Drawn(figure, {"x": x, "accuracy": accuracy})


def accuracy_curves_figure(curves: dict[str, np.ndarray], title: str,
                           xlabel: str = "evaluation (in the order your code asked for them)"
                           ) -> Drawn:
    """Accuracy against the evaluations a training run asked for, one line per split
    (e.g. 'training', 'validation'), as the seeds' "accuracy vs iteration" plots.

    Args:
        curves: split name -> (n, 2) rows of (evaluation number, accuracy in [0, 1]).
        title: what was trained, e.g. 'MLP'.
    Returns data: the curves as given.
    """
    figure = new_figure(6.8, 4.2)
    ax = figure.add_subplot()
    colours = [BLUE, VERMILLION, PURPLE, GREY]
    for (name, points), colour in zip(curves.items(), colours):
        ax.plot(points[:, 0], points[:, 1], "-o", color=colour, ms=4,
                label=f"{name} (last {points[-1, 1]:.2%})")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set(xlabel=xlabel, ylabel="accuracy", title=f"{title}: accuracy")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    return Drawn(figure, {"curves": curves})


def word_probabilities_figure(words: list[str], true: np.ndarray, probabilities: np.ndarray,
                              language_names: list[str]) -> Drawn:
    """A table of example words (rows) and the probability the model gives each
    language (columns); the true language is boxed.

    Args: K words, their (K,) true language indices and (K, L) probabilities.
    Returns data: 'probabilities' as shown.
    """
    from matplotlib.patches import Rectangle
    languages = len(language_names)
    figure = new_figure(7.6, 0.42 * len(words) + 1.8)
    ax = figure.add_subplot()
    ax.imshow(probabilities, cmap=AMOUNTS, vmin=0, vmax=1, aspect="auto")
    for (row, column), value in np.ndenumerate(probabilities):
        ax.text(column, row, f"{value:.0%}", ha="center", va="center", fontsize=9,
                color=_cell_text_colour(value, 0, 1))
    for row, language in enumerate(true):
        for colour, width in (("white", 4.5), (BLACK, 2.0)):   # visible on dark and light
            ax.add_patch(Rectangle((language - 0.5, row - 0.5), 1, 1, fill=False,
                                   edgecolor=colour, linewidth=width))
    ax.set_xticks(range(languages), language_names)
    ax.set_yticks(range(len(words)), words, fontfamily="monospace")
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set(xlabel="probability the model gives each language (box = the true one)",
           ylabel="test word")
    ax.set_title("Language ID: example test words, the surest right and wrong per language",
                 fontsize=11)
    return Drawn(figure, {"probabilities": probabilities})


# ------------------------------------------------------------------ q5, q6, q7

def kernel_figure(kernel: np.ndarray, digit: np.ndarray, convolved: np.ndarray) -> Drawn:
    """The learned kernel, and a digit before and after convolving with it.

    Args: kernel (h, w); digit (28, 28); convolved (28-h+1, 28-w+1).
    Returns data: 'kernel', 'convolved'.
    """
    figure = new_figure(10.0, 3.9)
    before, middle, after = figure.subplots(1, 3)
    before.imshow(digit, cmap="gray_r", vmin=0, vmax=1)
    before.set(title="a training digit", xlabel="column", ylabel="row")
    limit = float(np.abs(kernel).max()) or 1.0
    image = middle.imshow(kernel, cmap=SIGNED, vmin=-limit, vmax=limit)
    if kernel.size <= 49:
        for (row, column), value in np.ndenumerate(kernel):
            middle.text(column, row, _two_decimals(value), ha="center", va="center", fontsize=9,
                        color="white" if abs(value) > 0.6 * limit else "black")
    middle.set(title=f"learned kernel {kernel.shape[0]}x{kernel.shape[1]}", xlabel="column",
               ylabel="row", xticks=range(kernel.shape[1]), yticks=range(kernel.shape[0]))
    figure.colorbar(image, ax=middle, shrink=0.8, label="weight")
    limit = float(np.abs(convolved).max()) or 1.0
    image = after.imshow(convolved, cmap=SIGNED, vmin=-limit, vmax=limit)
    after.set(title=f"after convolution {convolved.shape[0]}x{convolved.shape[1]}",
              xlabel="column", ylabel="row")
    figure.colorbar(image, ax=after, shrink=0.8, label="value")
    figure.suptitle("Convolution: the learned kernel and what it does to a digit "
                    "(purple = positive, orange = negative)", fontsize=11)
    return Drawn(figure, {"kernel": kernel, "convolved": convolved})


def attention_figure(weights: np.ndarray, expected: np.ndarray) -> Drawn:
    """The attention weights of the student's block for one short sequence, beside
    softmax(mask(QK^T / sqrt(C))) computed from the same layers.

    Args: weights, expected: (T, T), row = query position, column = key position.
    Returns data: 'weights', 'largest_difference'.
    """
    difference = float(np.max(np.abs(weights - expected)))
    figure = new_figure(10.0, 5.0)
    panels = figure.subplots(1, 2)
    for ax, values, title in zip(panels, (weights, expected),
                                 ("your AttentionBlock", "expected: softmax(mask(QK^T/sqrt(C)))")):
        image = ax.imshow(values, cmap=AMOUNTS, vmin=0, vmax=1)
        for (row, column), value in np.ndenumerate(values):
            ax.text(column, row, _two_decimals(value), ha="center", va="center", fontsize=8,
                    color=_cell_text_colour(value, 0, 1))
        ax.set(title=title, xlabel="key position (attended to)", ylabel="query position",
               xticks=range(len(values)), yticks=range(len(values)))
    figure.colorbar(image, ax=panels, shrink=0.8, label="attention weight")
    figure.suptitle(f"Attention weights for a sequence of {len(weights)} positions (largest "
                    f"difference {difference:.3g}; causal: zero above the diagonal)",
                    fontsize=11)
    return Drawn(figure, {"weights": weights, "largest_difference": difference})


def gpt_figure(losses: np.ndarray, prompt: str, generated: str | None) -> Drawn:
    """The training loss per step, and a sample the trained model generated.

    Args: losses (S,); the prompt and the generated continuation (None if there is
    no sample).
    Returns data: 'losses'.
    """
    import textwrap
    # The averages the 'learns' check compares: its first 3 and its last 5 steps.
    start, end = float(np.mean(losses[:3])), float(np.mean(losses[-5:]))
    figure = new_figure(8.0, 5.2)
    top, bottom = figure.subplots(2, 1, gridspec_kw={"height_ratios": (3, 1.2)})
    top.plot(np.arange(1, len(losses) + 1), losses, color=BLUE, lw=1.6)
    top.set(xlabel="training step", ylabel="cross-entropy loss",
            title=f"Character GPT: loss on a short text, {start:.3f} (first 3 steps) -> "
                  f"{end:.3f} (last 5) in {len(losses)} steps")
    top.grid(alpha=0.3)
    bottom.set_axis_off()
    if generated is None:
        text = "no sample: generate() did not return one"
    else:
        text = "\n".join(textwrap.wrap(f"prompt: {prompt!r}", 80)
                         + textwrap.wrap(f"generated: {generated!r}", 80))
    bottom.text(0.0, 0.95, text, family="monospace", fontsize=10, va="top", ha="left",
                transform=bottom.transAxes)
    bottom.set_title("a sample from the trained model (prompt, then what it generated)",
                     fontsize=11, loc="left")
    return Drawn(figure, {"losses": losses, "start": start, "end": end})
