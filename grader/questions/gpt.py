"""q7 (ungraded): the character GPT's shapes, causality, and learning.

Causality: the judge sends two sequences that agree up to a position; the outputs
at earlier positions must agree too. Learning: a few dozen steps on a short
repeated sentence must at least halve the loss.
"""

from __future__ import annotations

import numpy as np

from grader.questions.common import expect_shape, expect_tensor, forward_method
from grader.results import failed, passed

BLOCK_SIZE, WIDTH, LAYERS = 8, 16, 2
TEXT = "to be, or not to be, that is the question. "
STEPS, BATCH = 60, 16


def make_probes(rng: np.random.Generator, data) -> dict[str, np.ndarray]:
    vocabulary = sorted(set(TEXT))
    encoded = np.array([vocabulary.index(ch) for ch in TEXT * 6], dtype=np.int64)
    first = rng.integers(0, len(vocabulary), (2, BLOCK_SIZE))
    cut = int(rng.integers(1, BLOCK_SIZE))
    second = first.copy()
    second[:, cut:] = (first[:, cut:] + rng.integers(1, len(vocabulary), (2, BLOCK_SIZE - cut))) \
        % len(vocabulary)
    return {"vocab_size": np.array(len(vocabulary)), "corpus": encoded,
            "first": first.astype(np.int64), "second": second.astype(np.int64),
            "cut": np.array(cut)}


# ------------------------------------------------------------------ sandbox side

def run_in_sandbox(ctx) -> None:
    vocab_size = int(ctx.probes["vocab_size"])
    label = "gpt_model.Character_GPT"

    def build():
        ctx.student("models")
        gpt_model = ctx.student("gpt_model")
        return ctx.call(f"{label}({BLOCK_SIZE}, {WIDTH}, {LAYERS}, {vocab_size})",
                        ctx.lookup(gpt_model, "Character_GPT"),
                        BLOCK_SIZE, WIDTH, LAYERS, vocab_size)

    def run(model, tokens):
        import torch
        output = expect_tensor(ctx.call(f"{label}.forward", model, torch.from_numpy(tokens)),
                               f"{label}.forward", forward_method(model))
        expect_shape(output, (*tokens.shape, vocab_size), f"{label}.forward",
                     " (batch, time, vocab_size)")
        return output.detach().double().numpy()

    def shapes(record):
        record["shape"] = list(run(build(), ctx.probes["first"]).shape)

    def causal(record):
        import torch
        model = build()
        model.eval()
        with torch.no_grad():
            record.save("first", run(model, ctx.probes["first"]))
            record.save("second", run(model, ctx.probes["second"]))

    def learns(record):
        import torch
        model = build()
        run(model, ctx.probes["first"])                                # forward works at all
        corpus = torch.from_numpy(ctx.probes["corpus"])
        windows = corpus.unfold(0, BLOCK_SIZE + 1, 1)                  # (N, T + 1)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        losses = []
        for _ in range(STEPS):
            chunk = windows[torch.randint(len(windows), (BATCH,))]
            x, y = chunk[:, :-1].contiguous(), chunk[:, 1:].contiguous()
            loss = ctx.call(f"{label}.get_loss", model.get_loss, x, y)
            optimizer.zero_grad()
            ctx.call("loss.backward", loss.backward)
            optimizer.step()
            losses.append(float(loss.detach()))
        record["losses"] = losses

    budget = ctx.job["sanity_seconds"]
    for key, body in (("shapes", shapes), ("causal", causal), ("learns", learns)):
        ctx.run_step(key, body, budget=budget)


# -------------------------------------------------------------------- judge side

def score(question, outcome, probes, data) -> list:
    shapes, causal, learns = question.checks
    results = []
    step = outcome.step("shapes")
    results.append(passed(question, shapes, "forward returns (batch, time, vocab_size)")
                   if step is not None and step.ok
                   else failed(question, shapes, outcome.why_missing("shapes")))

    first, second = outcome.array("causal", "first"), outcome.array("causal", "second")
    cut = int(probes["cut"])
    if first is None or second is None or first.shape != second.shape or first.ndim != 3:
        results.append(failed(question, causal, outcome.why_missing("causal")))
    elif not np.allclose(first[:, :cut], second[:, :cut],
                         atol=question.thresholds["tolerance"], rtol=0):
        results.append(failed(question, causal, (
            f"changing the characters from position {cut} on changed the outputs at earlier "
            "positions: the model looks ahead. Is the attention mask applied?")))
    else:
        results.append(passed(question, causal, "outputs depend only on earlier characters"))

    step = outcome.step("learns")
    losses = step.values.get("losses") if step is not None and step.ok else None
    if not isinstance(losses, list) or len(losses) != STEPS or not all(
            isinstance(v, (int, float)) for v in losses):
        results.append(failed(question, learns, outcome.why_missing("learns")))
    else:
        start, end = float(np.mean(losses[:3])), float(np.mean(losses[-5:]))
        ratio = question.thresholds["max_loss_ratio"]
        message = f"loss went from {start:.3f} to {end:.3f} in {STEPS} steps " \
                  f"(required: below {ratio:g} x the start)"
        results.append(passed(question, learns, message, metric=end)
                       if np.isfinite(end) and end <= ratio * start
                       else failed(question, learns, message, metric=end))
    return results
