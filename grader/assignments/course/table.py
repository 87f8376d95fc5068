"""The course's table: its questions, checks, points, prerequisites, thresholds and
time limits, its published versions, and the imports each skeleton file ships with.

Nothing that decides points lives anywhere else: the question modules in
``grader/assignments/course/questions/`` read their thresholds and scoring constants
from here, each module declares which it reads, and ``grader.core.wiring`` refuses to
grade while a module and its row disagree (see grader/README.md for the path of one
question through the grader). ``ASSIGNMENTS`` turns each version into an
``Assignment`` (grader/core/table.py) for the registry in grader/assignments/.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType

from grader.assignments.course import splits
from grader.assignments.course.handout import models_only_readme, student_readme
from grader.assignments.course.recognise import DEFAULT_COURSE, as_version
from grader.core.table import (  # noqa: F401
    LIMITS,
    MODELS_ONLY,
    SPLIT_FILES,
    MNIST_RETRY_WITHIN,
    Assignment,
    Check,
    DataFile,
    Question,
    Release,
    StudentFile,
    Withheld,
    _frozen,
)

_QUESTIONS = "grader.assignments.course.questions."

QUESTIONS: tuple[Question, ...] = (
    Question(
        "q1", "Perceptron",
        checks=(Check("sanity", "PerceptronModel: weights, scores and predictions", 2),
                Check("update", "train_perceptron: update rule", 1),
                Check("converge", "train_perceptron: 100% training accuracy", 2,
                      retried=True)),
        student_files=("models.py", "train.py"), module=_QUESTIONS + "perceptron", time_limit=120,
        thresholds=_frozen(training_accuracy=1.0, weight_tolerance=1e-4)),
    Question(
        "q2", "Non-linear regression",
        checks=(Check("sanity", "RegressionModel and regression_loss: shapes and gradients", 2),
                Check("train", "train_regression: mean squared error on sin(x)", 3,
                      retried=True)),
        student_files=("models.py", "losses.py", "train.py"), module=_QUESTIONS + "regression",
        # max_mse: the writeup's criterion, over the dataset's points. max_fresh_mse:
        # a guard against lookup tables on new x, far above any honest smooth fit
        # (benchmarks/q2_guard.py: honest fits that pass reach at most 0.025 there).
        time_limit=300, thresholds=_frozen(max_mse=0.02, fresh_points=200, max_fresh_mse=0.1)),
    Question(
        "q3", "Digit classification",
        checks=(Check("sanity", "DigitClassificationModel and loss: shapes and gradients", 2),
                Check("train", "train_digitclassifier: test accuracy", 3, retried=True,
                      retry_within=MNIST_RETRY_WITHIN)),
        student_files=("models.py", "losses.py", "train.py"), module=_QUESTIONS + "digits",
        time_limit=600, thresholds=_frozen(min_accuracy=0.97)),
    Question(
        "q4", "Language identification",
        checks=(Check("sanity", "LanguageIDModel and loss: shapes and gradients", 2),
                Check("train", "train_languageid: test accuracy", 3, retried=True)),
        student_files=("models.py", "losses.py", "train.py"), module=_QUESTIONS + "language",
        time_limit=600, thresholds=_frozen(min_accuracy=0.81)),
    Question(
        "q5", "Convolutional neural network",
        checks=(Check("convolve", "Convolve: valid 2-D convolution", 1),
                Check("train", "train_digitconvolution: accuracy", 2, retried=True)),
        student_files=("models.py", "losses.py", "train.py"), module=_QUESTIONS + "convolution",
        # scored_on: "training" (the course: 80% on the 200 digits it trained on) or
        # "held-out" (80% on 500 digits it never saw, after training on 1000).
        # 600 s: typical loop-based designs train in at most 97 s on one busy core
        # (taskset -c 0 python benchmarks/q5_designs.py).
        time_limit=600, thresholds=_frozen(min_accuracy=0.80, tolerance=1e-4,
                                           scored_on="training")),
    Question(
        "q6", "Attention",
        checks=(Check("attention", "AttentionBlock: causal scaled dot-product attention", 2),),
        student_files=("models.py",), module=_QUESTIONS + "attention", time_limit=120,
        # key_query_scores: whether K Q^T (not only the writeup's Q K^T) is accepted
        # (the models-only-q6 version: its term's grader computed K Q^T).
        thresholds=_frozen(tolerance=1e-4, diagnosis_tolerance=1e-3, key_query_scores=False),
        live_plot=False),
    Question(
        "q7", "Character GPT (ungraded)",
        checks=(Check("shapes", "Character_GPT: output shape", 0),
                Check("causal", "Character_GPT: no peeking at later characters", 0),
                Check("learns", "Character_GPT: loss falls on a tiny text", 0)),
        student_files=("models.py", "gpt_model.py"), module=_QUESTIONS + "gpt", time_limit=180,
        # The 'learns' check trains a small GPT with our own loop for a few steps.
        thresholds=_frozen(max_loss_ratio=0.5, tolerance=1e-5, steps=60, batch_size=16,
                           learning_rate=1e-2, block_size=8, n_embd=16, n_layer=2),
        prerequisites=("q6",), live_plot=False),
)

QUESTIONS_BY_ID = MappingProxyType({question.id: question for question in QUESTIONS})


STUDENT_FILES = ("models.py", "losses.py", "train.py", "gpt_model.py")
# The earlier handout's skeleton: everything in models.py.
MODELS_ONLY_SKELETON = "grader/assignments/course/skeletons/models_only/models.py"
# The current handout's skeletons, kept inside the grader too (StudentFile.pristine):
# the project folder's own models.py... are the student's work once they start, and a
# bulk or Gradescope run copies no student file, so the judge reads the names a
# notebook must provide from here. tests/test_skeleton.py keeps the two equal.
CURRENT_SKELETONS = "grader/assignments/course/skeletons/current/"

# Names the course has published under two spellings; the grader accepts either.
NAME_VARIANTS = MappingProxyType({
    "AttentionBlock": ("AttentionBlock", "Attention"),
    "train_digitconvolution": ("train_digitconvolution", "Train_DigitConvolution"),
    "digitconvolution_loss": ("digitconvolution_loss", "digitconvolution_Loss"),
})

# The imports of each skeleton file as shipped, as ``import X`` / ``from X import Y``
# (aliases dropped). tests/test_skeleton.py keeps this in step with the files.
ALLOWED_IMPORTS = MappingProxyType({
    "models.py": frozenset({
        "from torch import no_grad", "from torch import stack",
        "from torch.utils.data import DataLoader", "from torch.nn import Module",
        "import torch", "from torch.nn import Parameter", "from torch.nn import Linear",
        "from torch import optim", "from torch import tensor", "from torch import tensordot",
        "from torch import ones", "from torch import matmul",
        "from torch.nn.functional import cross_entropy", "from torch.nn.functional import relu",
        "from torch.nn.functional import mse_loss", "from torch.nn.functional import softmax",
        "from torch import movedim"}),
    "losses.py": frozenset({
        "from torch.nn.functional import cross_entropy",
        "from torch.nn.functional import mse_loss"}),
    "train.py": frozenset({
        "from torch import no_grad", "from torch import movedim",
        "from torch.utils.data import DataLoader", "from torch import optim",
        "from torch import tensor", "from losses import regression_loss",
        "from losses import digitclassifier_loss", "from losses import languageid_loss",
        "from losses import digitconvolution_loss"}),
    "gpt_model.py": frozenset({
        "import torch", "import torch.nn", "from torch.nn import functional",
        "from models import AttentionBlock"}),
})


@dataclass(frozen=True)
class CourseVersion:
    """A published version of the course: which questions it has, and for each its
    student interface, extra credit, and checks (key, title, points). Time limits and
    the judge's checks are the rows above, whatever the version; thresholds too, but
    those a version names in ``thresholds``."""
    name: str
    summary: str                 # one line, for --help
    interface: str
    checks: MappingProxyType     # question id -> ((key, title, points), ...)
    extra_credit: frozenset = frozenset()
    # Questions graded with SPLIT_FILES's interface whatever the version's is (the
    # attention block has only forward in every version).
    own_interface: frozenset = frozenset()
    # Question id -> thresholds this version sets otherwise than the rows above.
    thresholds: MappingProxyType = dataclasses.field(default_factory=_frozen)


def _checks(*rows) -> tuple:
    return tuple(rows)


_MODELS_ONLY_BASE = {
    # The course's earlier handout: everything in models.py; 6/6/6/7 points.
    "q1": _checks(("sanity", "PerceptronModel: weights, scores and predictions", 2),
                  ("update", "PerceptronModel.train: update rule", 1),
                  ("converge", "PerceptronModel.train: 100% training accuracy", 3)),
    "q2": _checks(("sanity", "RegressionModel.run and get_loss: shapes and gradients", 2),
                  ("train", "RegressionModel.train: mean squared error on sin(x)", 4)),
    "q3": _checks(("sanity", "DigitClassificationModel.run and get_loss: shapes and "
                             "gradients", 2),
                  ("train", "DigitClassificationModel.train: test accuracy", 4)),
    "q4": _checks(("sanity", "LanguageIDModel.run and get_loss: shapes and gradients", 2),
                  ("train", "LanguageIDModel.train: test accuracy", 5)),
}
_MODELS_ONLY_Q5 = ("convolve", "Convolve: valid 2-D convolution"), \
    ("train", "DigitConvolutionalModel.train: accuracy")

VERSIONS = (
    CourseVersion(
        "current", "models.py, losses.py and train.py; q1-q6 worth 25, q7 ungraded (default)",
        SPLIT_FILES, MappingProxyType({question.id: tuple(
            (check.key, check.title, check.points) for check in question.checks)
            for question in QUESTIONS})),
    CourseVersion(
        "models-only", "the earlier handout: everything in models.py (run, get_loss, "
        "train); q1-q4 worth 25, q5 1 point of extra credit",
        MODELS_ONLY, MappingProxyType({**_MODELS_ONLY_BASE, "q5": _checks(
            (*_MODELS_ONLY_Q5[0], 0.5), (*_MODELS_ONLY_Q5[1], 0.5))}),
        extra_credit=frozenset({"q5"})),
    CourseVersion(
        "models-only-q6", "a later term of the earlier handout: q5 worth 4 and q6 "
        "Attention worth 1 (30 in all)",
        MODELS_ONLY, MappingProxyType({**_MODELS_ONLY_BASE, "q5": _checks(
            (*_MODELS_ONLY_Q5[0], 2), (*_MODELS_ONLY_Q5[1], 2)),
            "q6": _checks(("attention", "Attention: causal scaled dot-product attention", 1))}),
        own_interface=frozenset({"q6"}),
        # That term's grader expected softmax(mask(K Q^T / sqrt(C))) V, and its students
        # wrote it; a student who followed the later writeup's Q K^T is right too.
        thresholds=MappingProxyType({"q6": MappingProxyType({"key_query_scores": True})})),
)


def _questions(version: CourseVersion) -> tuple[Question, ...]:
    """The questions of a course version, in order, with its points, titles,
    interface and extra credit (prerequisites outside the version are dropped)."""
    chosen = []
    for question in QUESTIONS:
        rows = version.checks.get(question.id)
        if rows is None:
            continue
        interface = SPLIT_FILES if question.id in version.own_interface else version.interface
        retried = {check.key: check for check in question.checks if check.retried}
        chosen.append(dataclasses.replace(
            question, checks=tuple(Check(*row, retried=row[0] in retried,
                                         retry_within=getattr(retried.get(row[0]),
                                                              "retry_within", None))
                                   for row in rows),
            interface=interface,
            thresholds=_frozen(**{**question.thresholds,
                                  **version.thresholds.get(question.id, {})}),
            extra_credit=question.id in version.extra_credit,
            student_files=("models.py",) if interface == MODELS_ONLY else question.student_files,
            prerequisites=tuple(p for p in question.prerequisites if p in version.checks)))
    return tuple(chosen)


# The files scores depend on (digests as in data/README.md), and the labels in them
# that student code never sees under --sandbox-user: MNIST's test half (the dev half
# stays: students validate on it) and the language test words' languages.
BLANK_DIGIT, BLANK_LANGUAGE = 255, -1
DATA = (
    DataFile("mnist.npz", "5b88a319a829cfa69ce635687957cf33ed2fbb4fa7da18a7703a9c86b8a2d529",
             (Withheld("test_labels", BLANK_DIGIT, splits.MNIST_TEST_ROWS),)),
    DataFile("lang_id.npz", "397c452dd91f4db5d323396d17fe83fb0dfba411494a198fa3c33424b0c8c70d",
             (Withheld("test_y", BLANK_LANGUAGE),)),
)
DATA_FILES = ("mnist.npz", "lang_id.npz", "shakespeare.txt", "README.md", "build.py")
# Code the course hands out ready-made in the skeletons, which the reference keeps
# unchanged (the release's leak check allows it): (file, qualified name).
PROVIDED_IN_SKELETON = frozenset({
    ("models.py", "AttentionBlock.__init__"),
    ("models.py", "Attention.__init__"),
    ("gpt_model.py", "Transformer_Block.__init__"),
    ("gpt_model.py", "Character_GPT.__init__"),
})


def _assignment(version: CourseVersion) -> Assignment:
    models_only = version.interface == MODELS_ONLY
    if models_only:   # one student file; no GPT (no q7), so no chargpt.py
        files = (StudentFile("models.py", MODELS_ONLY_SKELETON),)
        shipped = ("autograder.py", "backend.py", "pyproject.toml")
    else:
        files = tuple(StudentFile(name, name, CURRENT_SKELETONS + name)
                      for name in STUDENT_FILES)
        shipped = ("autograder.py", "backend.py", "chargpt.py", "pyproject.toml")
    return Assignment(
        version.name, version.summary, files, _questions(version),
        Release("ml-project", shipped, DATA_FILES,
                models_only_readme if models_only else student_readme, PROVIDED_IN_SKELETON),
        reference="tests/reference_models_only" if models_only else "tests/reference",
        data=DATA, allowed_imports=ALLOWED_IMPORTS, name_variants=NAME_VARIANTS,
        support_modules=("backend.py",),
        recognise=as_version(version.name) if version.name != DEFAULT_COURSE else None,
        called="course version")


ASSIGNMENTS = tuple(_assignment(version) for version in VERSIONS)
COURSES = MappingProxyType({assignment.name: assignment for assignment in ASSIGNMENTS})


def course_questions(name: str = DEFAULT_COURSE) -> tuple[Question, ...]:
    """The questions of course version ``name``."""
    return COURSES[name].questions
