"""The student README of the course's release (``python -m grader release``): what to
edit, how to run the autograder, and a table of the version's questions, points and
pass criteria, filled in from the table so that it cannot drift from the grading.
"""

from __future__ import annotations

from grader.core.handout_text import import_rules, time_limits
from grader.core.table import MODELS_ONLY, SPLIT_FILES, Assignment

# What passes each question, formatted with that question's thresholds from its row.
PASS_CRITERIA = {
    "q1": "100% training accuracy, after sanity checks of weights, scores and updates",
    "q2": "mean squared error <= {max_mse} on sin(x)",
    "q3": "test accuracy >= {min_accuracy:.0%}",
    "q4": "test accuracy >= {min_accuracy:.0%} on words in five languages",
    "q5": "`Convolve` matches a 'valid' 2-D convolution; >= {min_accuracy:.0%} on the "
          "200 digits it trained on",
    "q6": "output equals softmax(mask(QK^T / sqrt(C))) V",
    "q7": "ungraded checks: shapes, no looking ahead, the loss falls",
}

README_HEAD = """\
# Machine-learning project

You build a perceptron, then neural networks for regression, digit classification
and language identification, a small convolutional network, causal attention, and
finally a character-level GPT. The autograder checks your work. Everything runs
offline on a laptop CPU with Python 3.10 or newer.

## What to edit

{what_to_edit}

Everything else (`autograder.py`, `grader/`, `backend.py`, `data/`) belongs to the
autograder; you can ignore it.

## Set up

```
python -m pip install torch numpy matplotlib
```

or, in this folder, `pip install -e .` (any torch 2.x works).

## Run

```
python autograder.py                        # all questions
python autograder.py -q q3                  # one question (-q q1,q2 for several)
python autograder.py --no-graphics --mute   # no live plots; hide your prints
python autograder.py --save-plots plots     # pictures of your trained models in plots/
python autograder.py --check-dependencies   # numpy, matplotlib and torch work?
python chargpt.py                           # question 7: train the GPT on Shakespeare
python chargpt.py --plot loss.png           # ... and save its loss curve
```

Each question runs your code in a separate process, so a crash or an endless loop
costs only that question, and the message says what happened and on which line.

## Questions

| question | points | passes when |
|---|---|---|
"""

README_TAIL = """
Each question first awards points for sanity checks (shapes, gradients), then for
reaching its threshold. The skeleton as shipped earns 0/{total:g}.
"""


WHAT_TO_EDIT = {
    SPLIT_FILES: """\
Edit these four files only; the autograder looks up the names in them, so keep
those names:

| file | what you write |
|---|---|
| `models.py` | the models of questions 1-6, `Convolve`, and `AttentionBlock.forward` |
| `losses.py` | one loss function per question 2-5 |
| `train.py` | one training loop per question 1-5 |
| `gpt_model.py` | `Transformer_Block.forward` and `Character_GPT.forward` (question 7) |""",
    MODELS_ONLY: """\
Edit `models.py` only; the autograder looks up the names in it, so keep those
names. Each model has `run(x)` (its computation), `get_loss(x, y)` and
`train(dataset)`; the perceptron has `run`, `get_prediction` and `train`; question
5 adds the function `Convolve`. `python autograder.py` recognises this version of
the project (`--course {course}` names it).""",
}


def student_readme(assignment: Assignment, interface: str = SPLIT_FILES) -> str:
    """The README.md of a course version's release, its question table read from the
    version's rows (grader/assignments/course/table.py); ``interface`` is the
    version's (MODELS_ONLY: the earlier handout, one file and no GPT)."""
    questions, course = assignment.questions, assignment.name
    models_only = interface == MODELS_ONLY
    rows = []
    for question in questions:
        criterion = PASS_CRITERIA[question.id].format(**question.thresholds)
        points = f"{question.points:g}" + (" (extra credit)" if question.extra_credit else "")
        rows.append(f"| {question.id} {question.title} | {points} | {criterion} |\n")
    total = sum(question.points for question in questions if not question.extra_credit)
    head = README_HEAD.replace("{what_to_edit}",
                               WHAT_TO_EDIT[interface].replace("{course}", course))
    if models_only:
        head = head.replace("python chargpt.py                           # question 7: "
                            "train the GPT on Shakespeare\n", "").replace(
            "python chargpt.py --plot loss.png           # ... and save its loss curve\n", "")
    return (head + "".join(rows) + README_TAIL.format(total=total)
            + time_limits(assignment) + import_rules(assignment))


def models_only_readme(assignment: Assignment) -> str:
    """``student_readme`` for the earlier handout's versions."""
    return student_readme(assignment, MODELS_ONLY)
