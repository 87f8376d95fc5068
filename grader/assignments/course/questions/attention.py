"""q6: causal scaled dot-product attention.

For random sizes the sandbox builds the student's AttentionBlock, runs it on the
judge's inputs, and returns the block's own weights, mask and output. The judge
computes softmax(mask(Q K^T / sqrt(C))) V from those weights in float64 and
compares; when the output is wrong it names the likely mistake. Where the version
sets ``key_query_scores`` (models-only-q6: its term's grader computed K Q^T, from
``matmul(k_layer(x), movedim(q_layer(x), 1, 2))``), softmax(mask(K Q^T / sqrt(C))) V
is right too, and the message says which of the two matched.
"""

from __future__ import annotations

import numpy as np

from grader.checks.figure_data import observing, random_state_preserved
from grader.checks.values import expect_shape, expect_tensor, forward_method
from grader.core.source import StepFailure
from grader.core.wiring import Definition, Probes

QUESTION = Definition(
    figure_plan="grader.assignments.course.figure_plans:attention")
CONFIGS = 6
# The figure's short sequence: AttentionBlock(FIGURE_LAYER_SIZE, FIGURE_LENGTH) on one
# fixed sequence of FIGURE_LENGTH positions. Fewer positions than features, so the
# judge can recover the block's weights from its output (see question_figures.py).
FIGURE_LAYER_SIZE, FIGURE_LENGTH, FIGURE_SEED = 16, 8, 0
LAYERS = ("q_layer", "k_layer", "v_layer")
SAME_SHAPE = " (the same shape as the input)"
# The course's grader compared outputs with broadcasting, so a forward that leaves out
# the skeleton hint's [0] (shape (1, B, T, C)) but has every value right earned the
# points; it still does, with this note.
EXTRA_DIMENSION_NOTE = (
    "note: forward returns shape (1, B, T, C) instead of (B, T, C). masked_fill broadcasts "
    "the (1, 1, T, T) mask against the (B, T, T) scores and returns (1, B, T, T); the "
    "skeleton's hint takes [0] to drop that extra dimension. The values are right, so this "
    "earns the points, but question 7's Transformer_Block needs (B, T, C): add the [0].")


@QUESTION.probes()
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    configs = []
    for _ in range(CONFIGS):
        layer_size, block_size = int(rng.integers(2, 17)), int(rng.integers(2, 11))
        configs.append((layer_size, block_size, int(rng.integers(1, 5)),
                        int(rng.integers(1, block_size + 1))))
    configs[0] = (configs[0][0], configs[0][1], configs[0][2], configs[0][1])  # T = block_size
    inputs = [rng.standard_normal((b, t, c)).astype(np.float32) for c, _, b, t in configs]
    return Probes(public={"configs": np.array(configs, dtype=np.int64),
                          "inputs": np.concatenate([x.ravel() for x in inputs])})


def _inputs(probes) -> list[np.ndarray]:
    out, offset = [], 0
    for c, _, b, t in probes["configs"]:
        size = int(b * t * c)
        out.append(probes["inputs"][offset:offset + size].reshape(int(b), int(t), int(c)))
        offset += size
    return out


# ------------------------------------------------------------------ sandbox side

@QUESTION.step("attention", budgeted=True)
def attention(ctx, record):
    import torch
    block_class = ctx.lookup(ctx.student("models"), "AttentionBlock")
    for index, ((c, block_size, b, t), x) in enumerate(zip(ctx.probes["configs"],
                                                           _inputs(ctx.probes))):
        block = ctx.call(f"models.AttentionBlock({c}, {block_size})", block_class,
                         int(c), int(block_size))
        for name in LAYERS:
            layer = getattr(block, name, None)
            if not isinstance(getattr(layer, "weight", None), torch.Tensor):
                raise StepFailure("missing", f"AttentionBlock has no linear layer {name}: "
                                             "keep the layers that __init__ creates")
            record.save(f"{index}_{name}_weight", layer.weight.detach().double().numpy())
            bias = getattr(layer, "bias", None)
            if not isinstance(bias, torch.Tensor):
                bias = torch.zeros(int(c))
            record.save(f"{index}_{name}_bias", bias.detach().double().numpy())
        mask = getattr(block, "mask", None)
        if isinstance(mask, torch.Tensor):
            record.save(f"{index}_mask", mask.detach().double().numpy())
        label = "models.AttentionBlock.forward"
        with torch.no_grad():
            output = expect_tensor(ctx.call(label, block, torch.from_numpy(x)), label,
                                   forward_method(block))
        if tuple(output.shape) != (1, *x.shape):   # the judge looks at that one (see below)
            expect_shape(output, x.shape, label, SAME_SHAPE)
        record.save(f"{index}_output", output.detach().double().numpy())


def figure_input() -> np.ndarray:
    """The fixed (1, FIGURE_LENGTH, FIGURE_LAYER_SIZE) sequence of the figure."""
    rng = np.random.default_rng(FIGURE_SEED)
    return rng.standard_normal((1, FIGURE_LENGTH, FIGURE_LAYER_SIZE)).astype(np.float32)


@QUESTION.figure_data_step()
def figure_data(ctx, record):
    """A fresh block (seeded, so the same on every run) on the figure's sequence:
    its layers' weights and its output, from which the judge recovers the
    attention weights the block used."""
    import torch
    block_class = ctx.lookup(ctx.student("models"), "AttentionBlock")
    x = figure_input()
    with random_state_preserved(seed=FIGURE_SEED):
        block = block_class(FIGURE_LAYER_SIZE, FIGURE_LENGTH)
        with observing(block):
            output = block(torch.from_numpy(x))
    if not torch.is_tensor(output) or output.numel() != x.size:
        return
    for name in LAYERS:
        layer = getattr(block, name)
        record.save(f"{name}_weight", layer.weight.detach().double().numpy())
        bias = layer.bias if torch.is_tensor(getattr(layer, "bias", None)) \
            else torch.zeros(FIGURE_LAYER_SIZE)
        record.save(f"{name}_bias", bias.detach().double().numpy())
    record.save("output", output.detach().double().reshape(x.shape).numpy())


# -------------------------------------------------------------------- judge side

def _softmax(scores: np.ndarray, axis: int) -> np.ndarray:
    shifted = scores - np.max(scores, axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def _attend(x, q, k, v, *, scale: float, causal: bool = True, axis: int = -1):
    scores = q @ np.swapaxes(k, 1, 2) / scale                         # (B, T, T)
    if causal:
        t = scores.shape[-1]
        scores = np.where(np.tril(np.ones((t, t))) == 0, -np.inf, scores)
    return _softmax(scores, axis) @ v                                  # (B, T, C)


def expected_and_mistakes(x, weights: dict) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The correct output, and the outputs of common mistakes, for one config."""
    x = x.astype(np.float64)
    q, k, v = (x @ weights[f"{n}_weight"].T + weights[f"{n}_bias"] for n in LAYERS)
    c = x.shape[-1]
    correct = _attend(x, q, k, v, scale=np.sqrt(c))
    mistakes = {
        "the causal mask is not applied (every position sees later ones)":
            _attend(x, q, k, v, scale=np.sqrt(c), causal=False),
        "the scores are not divided by sqrt(layer_size)": _attend(x, q, k, v, scale=1.0),
        "the scores are divided by layer_size instead of its square root":
            _attend(x, q, k, v, scale=float(c)),
        "Q and K come from the wrong layers (q_layer makes Q, k_layer makes K)":
            _attend(x, k, q, v, scale=np.sqrt(c)),
    }
    if x.shape[1] > 1:
        with np.errstate(invalid="ignore"):
            mistakes["the softmax is taken over the wrong dimension (use dim=-1)"] = \
                _attend(x, q, k, v, scale=np.sqrt(c), axis=1)
    return correct, mistakes


QUERY_KEY, KEY_QUERY = "softmax(mask(QK^T/sqrt(C)))V", "softmax(mask(KQ^T/sqrt(C)))V"
SWAPPED = "Q and K come from the wrong layers (q_layer makes Q, k_layer makes K)"


def _accepted(x, arrays: dict, key_query: bool) -> tuple[dict, dict]:
    """The right outputs by name (Q K^T; K Q^T too where the version accepts it) and
    the common mistakes, for one config."""
    correct, mistakes = expected_and_mistakes(x, arrays)
    right = {QUERY_KEY: correct}
    if key_query:     # the swapped layers are K Q^T: right here, not a mistake
        right[KEY_QUERY] = mistakes.pop(SWAPPED)
    return right, mistakes


@QUESTION.verdict("attention", reads=("tolerance", "diagnosis_tolerance", "key_query_scores"))
def judge_attention(v):
    result = v.step()
    if result is None or not result.ok:
        return v.missing()
    tolerance, near = v.settings["tolerance"], v.settings["diagnosis_tolerance"]
    key_query = bool(v.settings["key_query_scores"])
    extra_dimension, matched = False, []
    for index, ((c, block_size, b, t), x) in enumerate(zip(v.probes["configs"],
                                                           _inputs(v.probes))):
        arrays = {name: v.outcome.array("attention", f"{index}_{name}")
                  for name in ("mask", "output") + tuple(f"{n}_{p}" for n in LAYERS
                                                         for p in ("weight", "bias"))}
        if any(value is None for value in arrays.values()):
            return v.failed("the attention check did not report its results (is the mask "
                            "buffer still registered in __init__?)")
        size = f"AttentionBlock({c}, {block_size}) on an input of shape ({b}, {t}, {c})"
        if arrays["mask"].shape != (1, 1, block_size, block_size) or not np.array_equal(
                arrays["mask"][0, 0], np.tril(np.ones((block_size, block_size)))):
            return v.failed(f"{size}: the mask buffer should be the lower-triangular ones of "
                            f"shape (1, 1, {block_size}, {block_size}) that __init__ creates")
        right, mistakes = _accepted(x, arrays, key_query)
        correct = right[QUERY_KEY]

        def match(output):
            return next((name for name, value in right.items()
                         if np.allclose(output, value, rtol=tolerance, atol=tolerance)), None)

        if arrays["output"].shape == (1, *correct.shape):
            extra_dimension = True
            if match(arrays["output"][0]) is None:
                return v.failed(f"models.AttentionBlock.forward returned a tensor of shape "
                                f"{arrays['output'].shape}; expected {correct.shape}{SAME_SHAPE}")
            arrays["output"] = arrays["output"][0]
        if arrays["output"].shape != correct.shape:
            return v.failed(f"{size}: output shape {arrays['output'].shape}, expected "
                            f"{correct.shape}")
        found = match(arrays["output"])
        if found is None:
            diagnosis = next((why for why, wrong in mistakes.items()
                              if np.allclose(arrays["output"], wrong, rtol=near, atol=near)),
                             "compare each step with " + " or ".join(right))
            error = min(float(np.max(np.abs(arrays["output"] - value)))
                        for value in right.values())
            return v.failed(f"{size}: the output differs from the reference by up to "
                            f"{error:.4g}. Likely cause: {diagnosis}")
        matched.append(found)
    names = list(dict.fromkeys(matched))
    message = f"matches {' and '.join(names)} on {CONFIGS} random sizes"
    if key_query:
        message += (" (this version accepts both orientations of the scores: its term's "
                    "grader computed KQ^T, the later writeup QK^T)")
    return v.passed(message + ("\n" + EXTRA_DIMENSION_NOTE if extra_dimension else ""))
