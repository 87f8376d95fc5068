"""q7 (ungraded): the character GPT's shapes, causality, and learning.

Causality: the judge sends two sequences that agree up to a position; the outputs
at earlier positions must agree too. Learning: a few dozen steps of our own
training loop on a short repeated sentence must cut the loss by the table's ratio.
"""

from __future__ import annotations

import numpy as np

from grader.checks.figure_data import observing, random_state_preserved
from grader.checks.values import expect_shape, expect_tensor, forward_method
from grader.core.results import LOSS, Measured
from grader.core.source import StepFailure
from grader.core.wiring import Definition, Probes

QUESTION = Definition(
    figure_plan="grader.assignments.course.figure_plans:gpt")
TEXT = "to be, or not to be, that is the question. "
SIZES = ("block_size", "n_embd", "n_layer")
LABEL = "gpt_model.Character_GPT"
# The figure's sample: generated after the 'learns' training, from the first
# SAMPLE_PROMPT characters of the text, sampled with a fixed seed.
SAMPLE_PROMPT, SAMPLE_LENGTH, SAMPLE_SEED = 8, 60, 0


@QUESTION.probes(reads=("block_size",))
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    block_size = settings["block_size"]
    vocabulary = sorted(set(TEXT))
    encoded = np.array([vocabulary.index(ch) for ch in TEXT * 6], dtype=np.int64)
    first = rng.integers(0, len(vocabulary), (2, block_size))
    cut = int(rng.integers(1, block_size))
    second = first.copy()
    second[:, cut:] = (first[:, cut:] + rng.integers(1, len(vocabulary), (2, block_size - cut))) \
        % len(vocabulary)
    return Probes(public={"vocab_size": np.array(len(vocabulary)), "corpus": encoded,
                          "first": first.astype(np.int64), "second": second.astype(np.int64),
                          "cut": np.array(cut)})


# ------------------------------------------------------------------ sandbox side

def _build(ctx):
    ctx.student("models")
    gpt_model = ctx.student("gpt_model")
    sizes = [int(ctx.settings[name]) for name in SIZES]
    vocab_size = int(ctx.probes["vocab_size"])
    return ctx.call(f"{LABEL}({', '.join(map(str, sizes))}, {vocab_size})",
                    ctx.lookup(gpt_model, "Character_GPT"), *sizes, vocab_size)


def _run(ctx, model, tokens):
    import torch
    vocab_size = int(ctx.probes["vocab_size"])
    output = expect_tensor(ctx.call(f"{LABEL}.forward", model, torch.from_numpy(tokens)),
                           f"{LABEL}.forward", forward_method(model))
    expect_shape(output, (*tokens.shape, vocab_size), f"{LABEL}.forward",
                 " (batch, time, vocab_size)")
    return output.detach().double().numpy()


@QUESTION.step("shapes", budgeted=True, reads=SIZES)
def shapes(ctx, record):
    record["shape"] = list(_run(ctx, _build(ctx), ctx.probes["first"]).shape)


@QUESTION.step("causal", budgeted=True, reads=SIZES)
def causal(ctx, record):
    import torch
    model = _build(ctx)
    model.eval()
    with torch.no_grad():
        record.save("first", _run(ctx, model, ctx.probes["first"]))
        record.save("second", _run(ctx, model, ctx.probes["second"]))


@QUESTION.step("learns", budgeted=True,
               reads=SIZES + ("steps", "batch_size", "learning_rate"))
def learns(ctx, record):
    import torch
    model = _build(ctx)
    ctx.keep(model=model)
    _run(ctx, model, ctx.probes["first"])                              # forward works at all
    parameters = list(model.parameters())
    if not parameters:
        raise StepFailure("parameters", f"{LABEL} has no parameters: keep the layers that "
                                        "__init__ creates")
    block_size, batch_size = int(ctx.settings["block_size"]), int(ctx.settings["batch_size"])
    corpus = torch.from_numpy(ctx.probes["corpus"])
    windows = corpus.unfold(0, block_size + 1, 1)                      # (N, T + 1)
    optimizer = torch.optim.Adam(parameters, lr=float(ctx.settings["learning_rate"]))
    losses = []
    for _ in range(int(ctx.settings["steps"])):
        chunk = windows[torch.randint(len(windows), (batch_size,))]    # (batch, T + 1)
        x, y = chunk[:, :-1].contiguous(), chunk[:, 1:].contiguous()  # (batch, T) each
        loss = expect_tensor(ctx.call(f"{LABEL}.get_loss", model.get_loss, x, y),
                             f"{LABEL}.get_loss", type(model).__dict__.get("get_loss"))
        if loss.numel() != 1:
            raise StepFailure("shape", f"{LABEL}.get_loss returned {loss.numel()} numbers; "
                                       "a loss is a single number")
        optimizer.zero_grad()
        ctx.call("loss.backward", loss.backward)
        optimizer.step()
        losses.append(float(loss.detach().reshape(-1)[0]))
    record["losses"] = losses


@QUESTION.figure_data_step()
def figure_data(ctx, record):
    """A sample the trained model generates (token ids, prompt included)."""
    import torch
    model = ctx.kept.get("model")
    if model is None or not callable(getattr(model, "generate", None)):
        return
    prompt = torch.from_numpy(ctx.probes["corpus"][None, :SAMPLE_PROMPT])   # (1, prompt)
    with random_state_preserved(seed=SAMPLE_SEED), observing(model):
        tokens = model.generate(prompt, SAMPLE_LENGTH)                      # (1, prompt + n)
    if torch.is_tensor(tokens) and tokens.dim() == 2:
        record.save("sample", tokens[0].detach().cpu().numpy().astype(np.int64))


# -------------------------------------------------------------------- judge side

@QUESTION.verdict("shapes")
def judge_shapes(v):
    step = v.step()
    if step is None or not step.ok:
        return v.missing()
    return v.passed("forward returns (batch, time, vocab_size)")


@QUESTION.verdict("causal", reads=("tolerance",))
def judge_causal(v):
    first, second = v.outcome.array("causal", "first"), v.outcome.array("causal", "second")
    cut = int(v.probes["cut"])
    if first is None or second is None or first.shape != second.shape or first.ndim != 3:
        return v.missing()
    if not np.allclose(first[:, :cut], second[:, :cut], atol=v.settings["tolerance"], rtol=0):
        return v.failed(f"changing the characters from position {cut} on changed the outputs "
                        "at earlier positions: the model looks ahead. Is the attention mask "
                        "applied?")
    return v.passed("outputs depend only on earlier characters")


@QUESTION.verdict("learns", reads=("max_loss_ratio", "steps"))
def judge_learns(v):
    step, steps = v.step(), int(v.settings["steps"])
    losses = step.values.get("losses") if step is not None and step.ok else None
    if not isinstance(losses, list) or len(losses) != steps or not all(
            isinstance(value, (int, float)) for value in losses):
        return v.missing()
    start, end = float(np.mean(losses[:3])), float(np.mean(losses[-5:]))
    ratio = v.settings["max_loss_ratio"]
    message = (f"loss went from {start:.3f} to {end:.3f} in {steps} steps (required: below "
               f"{ratio:g} x the start)")
    figure = Measured(end, LOSS, at_most=ratio * start if np.isfinite(start) else None)
    if np.isfinite(end) and end <= ratio * start:
        return v.passed(message, metric=figure)
    return v.failed(message, metric=figure)
