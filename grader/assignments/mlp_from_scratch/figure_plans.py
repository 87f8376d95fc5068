"""The saved figures of "mlp-from-scratch" (``--save-plots``), drawn by the judge
from what the sandbox sent back, for q3 (the MLP) and q5 (the CNN): ``qN.png`` the
confusion matrix of the test images, ``qN-accuracy.png`` the accuracy the student's
code measured during training (the seed's "accuracy vs iteration" plot, training and
validation), and for the MLP ``q3-templates.png``, the 64 rows of W1 as images."""

from __future__ import annotations

import numpy as np

from grader.checks.classifier import confusion_matrix
from grader.core.wiring import FIGURES_STEP
from grader.figures import drawing as figures
from grader.figures.plans import Plan, Sources


def accuracy(s: Sources) -> Plan:
    labels = s.secret["labels"]

    def confusion():
        logits = s.array("accuracy", "logits")
        if logits is None or logits.shape != (len(labels), 10):
            return None
        return figures.confusion_figure(confusion_matrix(labels, logits.argmax(axis=1), 10),
                                        [str(d) for d in range(10)], "Digits (test set)",
                                        "digit")

    def curves():
        history = s.values("accuracy").get("history") or []
        found = {}
        for entry in history:
            if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[2], float):
                found.setdefault(str(entry[1]), []).append((float(entry[0]), entry[2]))
        if not found:
            return None
        names = {"train": "training", "validation": "validation", "test": "test"}
        return figures.accuracy_curves_figure(
            {names.get(split, split): np.array(points) for split, points in found.items()},
            "Digits")

    def templates():
        weights = s.array(FIGURES_STEP, "templates")
        if weights is None or weights.shape != (64, 784):
            return None
        return figures.templates_figure(weights, 64, count=64)

    return [("", confusion), ("accuracy", curves), ("templates", templates)]
