"""The table of "depth-width" (grader/assignments/depth_width/): Sequential networks
for MNIST under hidden-unit budgets (problems 2C-2E), a CNN under a parameter budget
trained for exactly 10 epochs of batch 32 (3G), and the written problems with exact
answers (1D, 1E, 3B-3E), with the problem set's points; 64 points and 6 of extra
credit. The prose problems (1A-1C, 2A, 2B, 3A, 3F and 3G's discussion) stay with the
instructor.

The time limits come from ``python benchmarks/depth_width_speed.py``.
"""

from __future__ import annotations

from types import MappingProxyType

from grader.assignments.depth_width.handout import student_readme
from grader.assignments import mnist
from grader.core.table import (MNIST_RETRY_WITHIN, Assignment, Check, ImportRule, Question,
                               Release, StudentFile)

_QUESTIONS = "grader.assignments.depth_width.questions."
_SKELETONS = "grader/assignments/depth_width/skeleton/"
SUPPORT = "grader/assignments/depth_width/support/depth_width_data.py"
NETWORKS, ANSWERS = ("networks.py",), ("answers.py",)
DENSE = ("Flatten", "Linear", "ReLU", "Softmax", "Dropout")
CONVOLUTIONAL = ("Linear", "Conv2d", "MaxPool2d", "BatchNorm2d", "Dropout", "ReLU", "Softmax",
                 "Flatten")


def _answer(id_: str, title: str, task: str, points: float) -> Question:
    return Question(id_, title, checks=(Check("answer", title, points),),
                    student_files=ANSWERS, module=_QUESTIONS + "answers", time_limit=60,
                    thresholds=MappingProxyType({"task": task}), live_plot=False)


def _dense(id_: str, function: str, units: int, layers: int, accuracy: float,
           points: tuple[float, float], time_limit: float, extra_credit: bool = False):
    return Question(
        id_, f"{function}: at most {units} hidden units, {accuracy:.1%}",
        checks=(Check("limits", f"{function}: only {', '.join(DENSE)}; at most {units} "
                                f"hidden units in at least {layers} hidden layer(s)",
                      points[0]),
                Check("accuracy", f"{function} trained by train_model: test accuracy",
                      points[1], retried=True, retry_within=MNIST_RETRY_WITHIN)),
        student_files=NETWORKS, module=_QUESTIONS + "networks", time_limit=time_limit,
        thresholds=MappingProxyType({
            "function": function, "allowed": DENSE, "max_hidden_units": units,
            "min_hidden_layers": layers, "max_parameters": None, "required": (),
            "min_accuracy": accuracy}),
        extra_credit=extra_credit, live_plot=False)


QUESTIONS = (
    _answer("q1d", "or_network: OR with the fewest hidden units", "or", 7),
    _answer("q1e", "xor_layers and xor_network: the fewest layers for XOR", "xor", 8),
    _dense("q2c", "model_100", 100, 1, 0.975, (3, 7), time_limit=600),
    _dense("q2d", "model_200", 200, 2, 0.98, (3, 5), time_limit=600),
    _dense("q2e", "model_1000", 1000, 3, 0.983, (2, 4), time_limit=900, extra_credit=True),
    _answer("q3b", "conv_parameters: the 5x5x3 convolution's parameters", "conv_parameters", 2),
    _answer("q3c", "conv_output_shape: its output's shape", "conv_shape", 3),
    _answer("q3d", "average_pool: 2x2 average pooling, stride 2", "average_pool", 3),
    _answer("q3e", "max_pool: 2x2 max pooling, stride 2", "max_pool", 3),
    Question(
        "q3g", "cnn: under a million parameters, 98.5%",
        checks=(Check("limits", "cnn: allowed layers, under 1,000,000 parameters, a Dropout "
                                "and a BatchNorm2d", 6),
                Check("accuracy", "cnn trained by train_model: test accuracy", 10,
                      retried=True, retry_within=MNIST_RETRY_WITHIN),
                Check("training", "train_model: exactly 10 epochs of batch size 32", 4)),
        student_files=NETWORKS, module=_QUESTIONS + "cnn_network", time_limit=1800,
        thresholds=MappingProxyType({
            "function": "cnn", "allowed": CONVOLUTIONAL, "max_hidden_units": None,
            "min_hidden_layers": 0, "max_parameters": 1_000_000,
            "required": ("Dropout", "BatchNorm2d"), "min_accuracy": 0.985, "epochs": 10,
            "batch_size": 32}),
        live_plot=False),
    Question(
        "q3g-sweep", "dropout_sweep (ungraded)",
        checks=(Check("sweep", "dropout_sweep: one epoch at each of 10 dropout probabilities",
                      0),),
        student_files=NETWORKS, module=_QUESTIONS + "sweep", time_limit=1200,
        optional=True, live_plot=False),
)

# As in the course, MNIST's even test rows are the students' and the odd rows are
# scored (their labels are blanked in the release and under --sandbox-user).
DATA = (mnist.scored_odd_test_rows("the 5000 test digits load_mnist() gives you"),)

ALLOWED_IMPORTS = MappingProxyType({
    "networks.py": frozenset({"import numpy", "import torch", "from torch import nn",
                              "from torch.utils.data import DataLoader"}),
    "answers.py": frozenset({"import numpy"}),
})

# The problem set restricts layers, not imports: anything the grading machine has (the
# standard library, torch, numpy, matplotlib, depth_width_data, the student's own files).
IMPORT_RULES = MappingProxyType({
    name: ImportRule(modules=("torch", "numpy", "matplotlib"), installed=True)
    for name in (*NETWORKS, *ANSWERS)})

ASSIGNMENTS = (
    Assignment(
        "depth-width", "depth against width, and a CNN under a budget: networks.py and "
        "answers.py; 64 points, 6 extra credit",
        files=tuple(StudentFile(name, _SKELETONS + name) for name in (*NETWORKS, *ANSWERS)),
        questions=QUESTIONS,
        release=Release("depth-width", files=("autograder.py",),
                        data=("mnist.npz",), readme=student_readme,
                        top_level=MappingProxyType({"depth_width_data.py": SUPPORT}),
                        holds_back=True, data_readme=mnist.data_readme,
                        description="Depth against width, and a CNN under a parameter "
                                    "budget, on MNIST, with its autograder"),
        reference="tests/reference_depth_width",
        data=DATA, allowed_imports=ALLOWED_IMPORTS, import_rules=IMPORT_RULES,
        support_modules=(SUPPORT,)),
)
