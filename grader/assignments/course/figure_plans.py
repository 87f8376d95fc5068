"""Which figures each of the course's questions gets, drawn by the judge once its
checks are scored: one plan per question module, named in its ``Definition``
(grader/figures/plans.py draws them).

Only with ``--save-plots DIR``. Every figure comes from arrays the sandbox already
sent back (the checks' own, and those of the question's ``figure_data`` function,
saved as ``figures.<name>``), together with the judge's probes and labels, so a
figure shows exactly what was scored. The files, per question (the key figure,
embedded in Gradescope's results, is always ``qN.png``):

    q1.png             the final boundary with the training points
    q2.png             the fitted curve against sin(x), training and new x marked
    q3.png             confusion matrix of the test digits
    q3-mistakes.png    the 25 most confidently wrong test digits
    q3-weights.png     first-layer weights as 28x28 templates (a Linear(784, k) only)
    q3-validation.png  validation accuracy against epochs (if the code asked for it)
    q4.png             confusion matrix over languages (test words)
    q4-words.png       example test words and each language's probability
    q4-validation.png  validation accuracy against epochs (if the code asked for it)
    q5.png             the learned kernel, a digit before and after convolution
    q5-validation.png  validation accuracy against epochs (if the code asked for it)
    q6.png             the block's attention weights for a sequence of 8 positions
    q7.png             the loss of the 'learns' check and a generated sample

A figure whose data is missing (its step failed) is left out without a word; one
that fails to draw is reported in a one-line note, and never changes a score.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.course import splits
from grader.checks.classifier import confusion_matrix
from grader.core.wiring import FIGURES_STEP
from grader.figures import drawing as figures
from grader.figures.plans import Plan, Sources, softmax


def _validation(s: Sources, what: str):
    history = s.array(FIGURES_STEP, "validation")
    if history is None or history.ndim != 2 or history.shape[1] != 2 or len(history) == 0:
        return None
    return figures.validation_figure(history.astype(np.float64), what)


# ------------------------------------------------------------------ per question

def perceptron(s: Sources) -> Plan:
    def boundary():
        weights = s.array("converge", "weights")
        if weights is None or weights.size != 3:
            return None
        points = s.probes["train_x"][:, :2].astype(np.float64)
        return figures.perceptron_figure(points, s.probes["train_y"][:, 0],
                                         weights.astype(np.float64).reshape(3))
    return [("", boundary)]


def regression(s: Sources) -> Plan:
    def fit():
        predictions = s.array("train", "predictions")
        x = s.probes["x"].astype(np.float64)
        if predictions is None or predictions.shape != x.shape:
            return None
        predictions = predictions.astype(np.float64)[:, 0]
        grid = splits.REGRESSION_POINTS   # the dataset's x first, then the new x
        return figures.regression_figure(x[:grid, 0], predictions[:grid], x[grid:, 0],
                                         predictions[grid:])
    return [("", fit)]


def _test_logits(s: Sources, classes: int, array: str = "logits") -> np.ndarray | None:
    logits = s.array("train", array)
    if logits is None or logits.shape != (len(s.secret["labels"]), classes):
        return None
    return logits.astype(np.float64)


def digits(s: Sources) -> Plan:
    labels = s.secret["labels"]

    def confusion():
        logits = _test_logits(s, 10)
        if logits is None:
            return None
        return figures.confusion_figure(confusion_matrix(labels, logits.argmax(axis=1), 10),
                                        [str(d) for d in range(10)], "Digits (test set)",
                                        "digit")

    def mistakes():
        logits = _test_logits(s, 10)
        if logits is None:
            return None
        return figures.confident_mistakes_figure(s.probes["images"], labels, softmax(logits))

    def templates():
        weights = s.array(FIGURES_STEP, "first_layer")
        units = s.array(FIGURES_STEP, "first_layer_units")
        if weights is None or weights.ndim != 2 or weights.shape[1] != 28 * 28:
            return None
        total = int(units) if units is not None and units.size == 1 else len(weights)
        return figures.templates_figure(weights, max(total, len(weights)))

    return [("", confusion), ("mistakes", mistakes), ("weights", templates),
            ("validation", lambda: _validation(s, "Digits"))]


def _language_logits(s: Sources) -> np.ndarray | None:
    """The test scores in the form the verdict counted: padded to 10 letters when
    that scored higher, else at the words' true length."""
    forms = [_test_logits(s, 5, name) for name in ("logits", "logits_padded")]
    if any(logits is None for logits in forms):
        return None
    labels = s.secret["labels"]
    true_length, padded = (float(np.mean(f.argmax(axis=1) == labels)) for f in forms)
    return forms[1] if padded > true_length else forms[0]


def example_words(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Rows to show, per language in order: the surest right guess and the surest
    wrong one (when the model gets any of that language wrong)."""
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities[np.arange(len(labels)), predicted]
    rows = []
    for language in range(probabilities.shape[1]):
        for right in (True, False):
            candidates = np.flatnonzero((labels == language) & ((predicted == labels) == right))
            if len(candidates):
                rows.append(candidates[np.argmax(confidence[candidates])])
    return np.array(rows, dtype=np.int64)


def language(s: Sources) -> Plan:
    labels = s.secret["labels"]
    lang = s.data.arrays("lang_id.npz")
    names = [str(name) for name in lang["language_names"]]

    def confusion():
        logits = _language_logits(s)
        if logits is None:
            return None
        matrix = confusion_matrix(labels, logits.argmax(axis=1), len(names))
        return figures.confusion_figure(matrix, names, "Language ID (test words)", "language")

    def words():
        logits = _language_logits(s)
        if logits is None:
            return None
        probabilities = softmax(logits)
        rows = example_words(labels, probabilities)
        text = ["".join(str(lang["chars"][c]) for c in s.probes["words"][row] if c >= 0)
                for row in rows]
        return figures.word_probabilities_figure(text, labels[rows], probabilities[rows], names)

    return [("", confusion), ("words", words),
            ("validation", lambda: _validation(s, "Language ID"))]


def convolution(s: Sources) -> Plan:
    from grader.assignments.course.questions.convolution import valid_correlation

    def kernel():
        kernels = s.array(FIGURES_STEP, "kernels")
        if kernels is None or kernels.ndim != 3 or len(kernels) == 0:
            return None
        digit = s.probes["training_images"][0].reshape(28, 28).astype(np.float64)
        first = kernels[0].astype(np.float64)
        return figures.kernel_figure(first, digit, valid_correlation(digit, first))

    return [("", kernel), ("validation", lambda: _validation(s, "Convolution"))]


def attention_weights(x: np.ndarray, layers: dict) -> np.ndarray:
    """softmax(mask(Q K^T / sqrt(C))) for one sequence x (T, C): (T, T)."""
    q = x @ layers["q_layer_weight"].T + layers["q_layer_bias"]            # (T, C)
    k = x @ layers["k_layer_weight"].T + layers["k_layer_bias"]            # (T, C)
    scores = q @ k.T / np.sqrt(x.shape[1])                                 # (T, T)
    scores = np.where(np.tril(np.ones_like(scores)) == 0, -np.inf, scores)
    return softmax(scores)


def recovered_weights(x: np.ndarray, layers: dict, output: np.ndarray) -> np.ndarray:
    """The weights A with output = A V (V = the block's values for x), by least
    squares: exact for a block that mixes its values, since T < C makes V (T, C)
    of full row rank."""
    v = x @ layers["v_layer_weight"].T + layers["v_layer_bias"]            # (T, C)
    return output @ np.linalg.pinv(v)                                      # (T, T)


def attention(s: Sources) -> Plan:
    from grader.assignments.course.questions.attention import LAYERS, figure_input

    def weights():
        names = [f"{n}_{p}" for n in LAYERS for p in ("weight", "bias")] + ["output"]
        layers = {name: s.array(FIGURES_STEP, name) for name in names}
        x = figure_input()[0].astype(np.float64)                           # (T, C)
        t, c = x.shape
        if any(value is None for value in layers.values()) or layers["output"].size != t * c \
                or any(layers[f"{n}_weight"].shape != (c, c) for n in LAYERS):
            return None
        output = layers["output"].reshape(t, c)
        return figures.attention_figure(recovered_weights(x, layers, output),
                                        attention_weights(x, layers))
    return [("", weights)]


def gpt(s: Sources) -> Plan:
    from grader.assignments.course.questions.gpt import SAMPLE_PROMPT, TEXT

    def loss_and_sample():
        losses = s.values("learns").get("losses")
        if not isinstance(losses, list) or not losses or not all(
                isinstance(value, (int, float)) for value in losses):
            return None
        vocabulary = sorted(set(TEXT))
        decode = lambda ids: "".join(vocabulary[int(i)] for i in ids)  # noqa: E731
        sample = s.array(FIGURES_STEP, "sample")
        generated = None
        if sample is not None and sample.ndim == 1 and np.all((sample >= 0)
                                                              & (sample < len(vocabulary))):
            generated = decode(sample[SAMPLE_PROMPT:])
        prompt = decode(s.probes["corpus"][:SAMPLE_PROMPT])
        return figures.gpt_figure(np.asarray(losses, dtype=np.float64), prompt, generated)
    return [("", loss_and_sample)]
