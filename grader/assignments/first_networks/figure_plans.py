"""The saved figures of "first networks" (``--save-plots``), drawn by the judge from
what the sandbox sent back: q4.png shows the trained network's mistakes on the test
images, un-standardised (the practical's last exercise), with the predicted and the
true digit."""

from __future__ import annotations

import numpy as np

from grader.figures import drawing as figures
from grader.figures.plans import Plan, Sources, softmax


def digits(s: Sources) -> Plan:
    def mistakes():
        scores = s.array("mistakes", "scores")
        labels = s.probes["mistake_labels"]
        if scores is None or scores.shape != (len(labels), 10):
            return None
        # Undo the standardisation: back to pixel values, then to [0, 1] for drawing.
        pixels = s.probes["mistake_images"] * float(s.probes["std"]) + float(s.probes["mean"])
        return figures.confident_mistakes_figure(np.clip(pixels / 255, 0, 1), labels,
                                                 softmax(scores.astype(np.float64)))
    return [("", mistakes)]
