"""The table of "mlp-from-scratch" (grader/assignments/mlp_from_scratch/): an MLP in
numpy with hand-written back-propagation, then a CNN in torch, on MNIST; 65 points
and up to 12 of extra credit, as the project's writeup gives them (its written parts
stay with the instructor).

The time limits come from ``python benchmarks/mlp_from_scratch_speed.py`` (a loop
over single examples and a batched MLP, and the CNN, on one core).
"""

from __future__ import annotations

from types import MappingProxyType

from grader.assignments import mnist
from grader.assignments.mlp_from_scratch.handout import student_readme
from grader.core.table import (MNIST_RETRY_WITHIN, Assignment, Check, ImportRule, Question,
                               Release, StudentFile)

_QUESTIONS = "grader.assignments.mlp_from_scratch.questions."
_SKELETONS = "grader/assignments/mlp_from_scratch/skeleton/"
SUPPORT = "grader/assignments/mlp_from_scratch/support/mlp_data.py"
MLP, CNN = ("mlp.py",), ("cnn.py",)


def _accuracy(id_: str, title: str, network: str, files, mark: float, floor: float,
              extra_most: float, time_limit: float, threads: int) -> Question:
    return Question(
        id_, title,
        checks=(Check("accuracy", f"train_{network}: test accuracy", 20, retried=True,
                      retry_within=MNIST_RETRY_WITHIN),
                Check("above", f"train_{network}: above {mark:.0%}", extra_most,
                      extra_credit=True)),
        student_files=files, module=_QUESTIONS + "accuracy", time_limit=time_limit,
        thresholds=MappingProxyType({"network": network, "mark": mark, "floor": floor,
                                     "extra_most": extra_most}),
        threads=threads, live_plot=False)


QUESTIONS = (
    Question(
        "q1", "MLP: initialisation",
        checks=(Check("init", "MLP(): shapes, Gaussian weights of std 0.1, zero biases", 5),),
        student_files=MLP, module=_QUESTIONS + "init", time_limit=60,
        thresholds=MappingProxyType({"std": 0.1, "standard_errors": 5.0}), live_plot=False),
    Question(
        "q2", "MLP: forward pass and back-propagation",
        checks=(Check("forward", "forward: softmax(W2 sigmoid(W1 x + b1) + b2)", 3),
                Check("gradients", "update_grad: the cross-entropy's gradients", 8),
                Check("accumulate", "update_grad adds up, reset_grad zeroes", 2),
                Check("update", "update_params: a step against the gradients", 2)),
        student_files=MLP, module=_QUESTIONS + "backprop", time_limit=120,
        thresholds=MappingProxyType({"batch": 8, "learning_rate": 0.01, "tolerance": 1e-4}),
        live_plot=False),
    _accuracy("q3", "MLP: accuracy", "mlp", MLP, mark=0.90, floor=0.70, extra_most=10,
              time_limit=900, threads=1),
    Question(
        "q4", "MLP: confusion matrix",
        checks=(Check("confusion", "confusion_matrix: true digits by predicted digits", 5),),
        student_files=MLP, module=_QUESTIONS + "confusion", time_limit=60,
        thresholds=MappingProxyType({"images": 500}), live_plot=False),
    _accuracy("q5", "CNN: accuracy", "cnn", CNN, mark=0.98, floor=0.78, extra_most=2,
              time_limit=900, threads=1),
)

# Every one of the test digits is scored here: under --sandbox-user all their labels
# are blanked (the course keeps half of them for students to validate on).
DATA = (mnist.scored_test_set("the 10000 validation digits (data.validation_images)"),)

ALLOWED_IMPORTS = MappingProxyType({
    "mlp.py": frozenset({"import numpy", "import matplotlib", "import matplotlib.pyplot",
                         "import time"}),
    "cnn.py": frozenset({"import numpy", "import torch", "from torch import nn",
                         "import matplotlib", "import matplotlib.pyplot", "import time"}),
})

# The writeup: "For Part 1, you may import numpy, matplotlib, and time. For Part 2, you
# may also import torch. [...] Please do not import additional packages." (mlp_data,
# which the docstrings name, is allowed as every support module is.)
IMPORT_RULES = MappingProxyType({
    "mlp.py": ImportRule(modules=("numpy", "matplotlib", "time")),
    "cnn.py": ImportRule(modules=("numpy", "matplotlib", "time", "torch")),
})

ASSIGNMENTS = (
    Assignment(
        "mlp-from-scratch", "an MLP by hand in numpy (mlp.py), then a CNN in torch "
        "(cnn.py), on MNIST; q1-q5 worth 65, up to 12 extra credit",
        files=tuple(StudentFile(name, _SKELETONS + name) for name in (*MLP, *CNN)),
        questions=QUESTIONS,
        release=Release("mlp-from-scratch", files=("autograder.py",),
                        data=("mnist.npz",), readme=student_readme,
                        holds_back=True, data_readme=mnist.data_readme,
                        description="An MLP by hand in numpy, then a CNN in torch, on MNIST, "
                                    "with its autograder",
                        provided=frozenset({("cnn.py", "CNN.__init__"),
                                            ("cnn.py", "CNN.forward")}),
                        top_level=MappingProxyType({"mlp_data.py": SUPPORT})),
        reference="tests/reference_mlp_from_scratch",
        data=DATA, allowed_imports=ALLOWED_IMPORTS, import_rules=IMPORT_RULES,
        support_modules=(SUPPORT,)),
)
