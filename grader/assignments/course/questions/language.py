"""q4: language identification with a recurrent network.

The judge sends the 500 test words, shuffled within groups of equal length (and
the groups in random order), without their languages; the sandbox runs the trained
model on each group twice, at the words' true length and padded to 10 letters like
the training items, and the judge scores both and counts the better (as
``LanguageIDDataset.accuracy`` does for the dev words).
"""

from __future__ import annotations

import numpy as np

from grader.checks.classifier import Withheld, accuracy_hints, accuracy_verdict, measure_accuracy
from grader.checks.figure_data import save_validation_history
from grader.checks.loss_checks import loss_sanity, sanity_verdict
from grader.checks.training import build_model_and_dataset, train_watched
from grader.checks.values import expect_shape, run_model
from grader.core.results import CheckResult
from grader.core.wiring import Definition, Probes

QUESTION = Definition(
    figure_plan="grader.assignments.course.figure_plans:language")
# (batch size, letters): cut from the longest dev words, as the original course did.
SANITY_PROBES = ((1, 1), (2, 1), (2, 6), (17, 10))
LABEL = "models.LanguageIDModel"
# The two forms each test word is scored in: logits array name -> padded to 10?
FORMS = {"logits": False, "logits_padded": True}


@QUESTION.probes()
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    lang = data.arrays("lang_id.npz")
    words, labels, groups = [], [], []
    for start, end in lang["test_buckets"][rng.permutation(len(lang["test_buckets"]))]:
        order = start + rng.permutation(end - start)
        groups.append((sum(len(w) for w in words), sum(len(w) for w in words) + len(order)))
        words.append(lang["test_x"][order])
        labels.append(lang["test_y"][order])
    return Probes(public={"words": np.concatenate(words),
                          "groups": np.array(groups, dtype=np.int64)},
                  secret={"labels": np.concatenate(labels)})


# ------------------------------------------------------------------ sandbox side

@QUESTION.step("sanity", budgeted=True)
def sanity(ctx, record):
    model, dataset = build_model_and_dataset(ctx, "LanguageIDModel", "LanguageIDDataset")
    start = int(dataset.dev_buckets[-1, 0])
    facts = []
    for batch, letters in SANITY_PROBES:
        xs, y = dataset._encode(dataset.dev_x[start:start + batch],
                                dataset.dev_y[start:start + batch])
        facts.append(loss_sanity(ctx, model, LABEL, "languageid_loss",
                                 xs[:letters].numpy(), y.numpy(), (batch, 5)))
    record["probes"] = facts


@QUESTION.step("train")
def train(ctx, record):
    import torch
    model, dataset = build_model_and_dataset(ctx, "LanguageIDModel", "LanguageIDDataset")
    ctx.keep(dataset=dataset)
    dataset.test_y = Withheld("test_y")
    train_watched(ctx, record, model, dataset, "train_languageid", note_inputs=True)

    import backend
    words = ctx.probes["words"]
    for form, padded in FORMS.items():
        logits = np.zeros((len(words), 5), dtype=np.float32)
        with backend.evaluating(model), torch.no_grad():
            for start, end in ctx.probes["groups"]:
                if padded:
                    xs = dataset._one_hot_words(words[start:end]).movedim(0, 1)  # (10, B, 47)
                else:
                    xs, _ = dataset._encode(words[start:end],
                                            np.zeros(end - start, dtype=np.int64))  # (L, B, 47)
                output, name = run_model(ctx, model, LABEL, xs)
                expect_shape(output, (end - start, 5), name,
                             " (one score per language for each word)")
                logits[start:end] = output.float().cpu().numpy()
        record.save(form, logits)


@QUESTION.figure_data_step()
def figure_data(ctx, record):
    """The validation accuracies the student's code asked for."""
    save_validation_history(record, ctx.kept.get("dataset"))


# -------------------------------------------------------------------- judge side

@QUESTION.verdict("sanity")
def judge_sanity(v):
    return sanity_verdict(v, [[batch, 5] for batch, _ in SANITY_PROBES])


@QUESTION.verdict("train", reads=("min_accuracy",))
def judge_accuracy(v):
    """The better of the two forms counts: a model trained on padded items may rely
    on the padding, one trained bucket by bucket at true lengths may not."""
    labels = v.secret["labels"]
    accuracies = {}
    for name, padded in FORMS.items():
        accuracies[padded] = measure_accuracy(v, labels, "test words", array=name)
        if isinstance(accuracies[padded], CheckResult):
            return accuracies[padded]
    padded = accuracies[True] > accuracies[False]
    form = ("with the words padded to 10 letters, as the training items are",
            "with each word at its true length")
    other = ("padded to 10 letters", "at their true length")
    best, second = accuracies[padded], accuracies[not padded]
    predicted = v.outcome.array(v.check.key, [n for n, p in FORMS.items() if p == padded][0])
    names = v.data.arrays("lang_id.npz")["language_names"]
    return accuracy_verdict(v, best, (
        f"test accuracy {best:.2%} on {len(labels)} test words, scored {form[not padded]} "
        f"({other[padded]}: {second:.2%})"),
        accuracy_hints(v, best, "test words", predicted.argmax(axis=1), names))
