"""The table of "first networks" (grader/assignments/first_networks/): a first
practical, four quadrants and then a fully connected network on standardised MNIST,
worth 10 points.

Thresholds and time limits come from ``python benchmarks/first_networks_designs.py``,
which trains honest small designs of the kind the practical asks for.
"""

from __future__ import annotations

from types import MappingProxyType

from grader.assignments import mnist
from grader.assignments.first_networks.handout import student_readme
from grader.core.table import (MNIST_RETRY_WITHIN, Assignment, Check, ImportRule, Question,
                               Release, StudentFile)

_QUESTIONS = "grader.assignments.first_networks.questions."
_SKELETONS = "grader/assignments/first_networks/skeleton/"
SUPPORT = "grader/assignments/first_networks/support/first_networks_data.py"
QUADRANTS, MNIST = ("quadrants.py",), ("mnist_linear.py",)

QUESTIONS = (
    Question(
        "q1", "Quadrant data",
        checks=(Check("labels", "quadrant_labels: the rule, axes included", 1),
                Check("dataset", "quadrant_dataset: labelled points fixed by the seed", 1)),
        student_files=QUADRANTS, module=_QUESTIONS + "quadrant_data", time_limit=60,
        thresholds=MappingProxyType({"random_points": 400, "dataset_points": 500}),
        live_plot=False),
    Question(
        "q2", "Quadrant network",
        checks=(Check("layers", "QuadrantNet: two hidden layers, four outputs", 1),
                Check("train", "train_quadrants: accuracy on fresh points", 1,
                      retried=True)),
        student_files=QUADRANTS, module=_QUESTIONS + "quadrant_net", time_limit=120,
        thresholds=MappingProxyType({"training_points": 1000, "fresh_points": 2000,
                                     "min_accuracy": 0.9}),
        live_plot=False),
    Question(
        "q3", "Standardisation",
        checks=(Check("standardize", "standardize: the training set's statistics only", 2),),
        student_files=MNIST, module=_QUESTIONS + "standardize", time_limit=60,
        thresholds=MappingProxyType({"train_images": 2000, "test_images": 500,
                                     "repeated_images": 300, "tolerance": 1e-3}),
        live_plot=False),
    Question(
        "q4", "MNIST network",
        checks=(Check("train", "train_mnist: accuracy on test digits", 2, retried=True,
                      retry_within=MNIST_RETRY_WITHIN),
                Check("history", "train_mnist: periodic evaluation on the test set", 1),
                Check("mistakes", "misclassified: the rows the model gets wrong", 1)),
        student_files=MNIST, module=_QUESTIONS + "digits", time_limit=300,
        thresholds=MappingProxyType({"min_accuracy": 0.88, "history_tolerance": 0.1,
                                     "mistake_images": 1000}),
        live_plot=False),
)

ALLOWED_IMPORTS = MappingProxyType({
    name: frozenset({"import torch", "from torch import nn",
                     "from torch.utils.data import DataLoader"})
    for name in (*QUADRANTS, *MNIST)})

# The practical restricts no imports: anything the grading machine has (the standard
# library, torch, numpy, matplotlib, first_networks_data, the student's own files).
IMPORT_RULES = MappingProxyType({
    name: ImportRule(modules=("torch", "numpy", "matplotlib"), installed=True)
    for name in (*QUADRANTS, *MNIST)})

ASSIGNMENTS = (
    Assignment(
        "first-networks", "a warm-up: four quadrants, then a fully connected network on "
        "standardised MNIST; q1-q4 worth 10",
        files=tuple(StudentFile(name, _SKELETONS + name) for name in (*QUADRANTS, *MNIST)),
        questions=QUESTIONS,
        release=Release("first-networks", files=("autograder.py",),
                        data=("mnist.npz",), readme=student_readme,
                        top_level=MappingProxyType({"first_networks_data.py": SUPPORT}),
                        holds_back=True, data_readme=mnist.data_readme,
                        description="First networks: quadrant data and a network for MNIST, "
                                    "with its autograder"),
        reference="tests/reference_first_networks",
        data=(mnist.scored_odd_test_rows("the 5000 test digits load_mnist() gives you"),),
        allowed_imports=ALLOWED_IMPORTS, import_rules=IMPORT_RULES,
        support_modules=(SUPPORT,)),
)
