"""The saved figures of "depth-width" (``--save-plots``): q3g-sweep.png, the CNN's
accuracy after one epoch against the dropout probability (the problem's sweep)."""

from __future__ import annotations

import numpy as np

from grader.figures import drawing as figures
from grader.figures.plans import Plan, Sources


def sweep(s: Sources) -> Plan:
    def curve():
        found = s.array("sweep", "accuracies")
        if found is None or found.shape != (10,):
            return None
        points = np.stack([s.probes["probabilities"], found], axis=1)
        return figures.accuracy_curves_figure({"test (one epoch)": points},
                                              "CNN after one epoch", "dropout probability p")
    return [("", curve)]
