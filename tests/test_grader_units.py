"""Pieces of the grader that can be checked without running a sandbox."""

import copy
import re
import types

import numpy as np
import pytest
import torch

from grader import assignments
from grader.assignments.course.questions.attention import expected_and_mistakes
from grader.assignments.course.questions.convolution import valid_correlation
from grader.assignments.course.table import NAME_VARIANTS, QUESTIONS
from grader.checks.classifier import Withheld
from grader.core.source import StepFailure, StudentFiles, is_stub
from grader.judge.grading import question_seed
from grader.judge.imports_check import imports_of
from grader.judge.runner import SandboxOutcome, StepResult, _student_fault_lines
from grader.sandbox.student_code import _unify_variants
from helpers import ROOT


def test_judge_digests_match_the_data_readme():
    readme = (ROOT / "data" / "README.md").read_text()
    for name, digest in assignments.data_files().items():
        assert re.search(rf"^\| `{re.escape(name)}` \| \d+ \| `{digest}` \|$", readme, re.M), name


def test_points_total_25_and_every_check_has_a_step_name():
    assert sum(q.points for q in QUESTIONS) == 25
    assert [q.points for q in QUESTIONS] == [5, 5, 5, 5, 3, 2, 0]
    for question in QUESTIONS:
        assert len({c.key for c in question.checks}) == len(question.checks)


def test_valid_correlation_matches_a_direct_sum():
    rng = np.random.default_rng(0)
    matrix, kernel = rng.normal(size=(6, 5)), rng.normal(size=(3, 2))
    direct = np.array([[np.sum(matrix[i:i + 3, j:j + 2] * kernel) for j in range(4)]
                       for i in range(4)])
    assert np.allclose(valid_correlation(matrix, kernel), direct)


def _weights(block):
    return {f"{name}_{part}": getattr(getattr(block, name), part).detach().double().numpy()
            for name in ("q_layer", "k_layer", "v_layer") for part in ("weight", "bias")}


def test_attention_reference_agrees_with_torch_and_names_mistakes():
    torch.manual_seed(0)
    layers = types.SimpleNamespace(**{n: torch.nn.Linear(8, 8) for n in ("q_layer", "k_layer", "v_layer")})
    x = torch.randn(2, 5, 8)
    q, k, v = layers.q_layer(x), layers.k_layer(x), layers.v_layer(x)
    scores = q @ k.transpose(1, 2) / 8 ** 0.5
    masked = scores.masked_fill(torch.tril(torch.ones(5, 5)) == 0, float("-inf"))
    expected_torch = (torch.softmax(masked, dim=-1) @ v).detach().double().numpy()
    correct, mistakes = expected_and_mistakes(x.numpy(), _weights(layers))
    assert np.allclose(correct, expected_torch, atol=1e-6)
    unmasked = (torch.softmax(scores, dim=-1) @ v).detach().double().numpy()
    matching = [why for why, wrong in mistakes.items() if np.allclose(unmasked, wrong, atol=1e-6)]
    assert matching == ["the causal mask is not applied (every position sees later ones)"]


def test_imports_are_read_without_aliases_and_inside_functions():
    source = ("import torch.nn as nn\nfrom torch.nn import functional as F\n"
              "def f():\n    import numpy as np\nfrom . import helper\n")
    assert imports_of(source) == {"import torch.nn", "from torch.nn import functional",
                                  "import numpy", "from . import helper"}


def test_variants_prefer_the_definition_that_is_not_a_stub(tmp_path, monkeypatch):
    # A student filled in the other spelling below the skeleton's stub and alias.
    (tmp_path / "variant_train.py").write_text(
        "def train_digitconvolution(model, dataset):\n"
        '    "*** YOUR CODE HERE ***"\n'
        "Train_DigitConvolution = train_digitconvolution\n"
        "def Train_DigitConvolution(model, dataset):\n"
        "    return 'trained'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import variant_train
    assert variant_train.train_digitconvolution(None, None) is None
    _unify_variants(variant_train, NAME_VARIANTS)
    assert variant_train.train_digitconvolution(None, None) == "trained"
    assert variant_train.Train_DigitConvolution(None, None) == "trained"


def test_is_stub_reads_the_skeleton_pattern(tmp_path, monkeypatch):
    (tmp_path / "sample.py").write_text(
        "def stub(x):\n    'doc'\n    \"*** YOUR CODE HERE ***\"\n"
        "def nested(x):\n    with open(x):\n        \"*** YOUR CODE HERE ***\"\n"
        "def done(x):\n    \"*** YOUR CODE HERE ***\"\n    return x\n"
        "def forgot_return(x):\n    y = x + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import sample
    assert is_stub(sample.stub) and is_stub(sample.nested)
    assert not is_stub(sample.done) and not is_stub(sample.forgot_return)


def test_question_seeds_are_fixed_and_distinct():
    seeds = [question_seed(0, q.id) for q in QUESTIONS]
    assert seeds == [question_seed(0, q.id) for q in QUESTIONS]
    assert len(set(seeds)) == len(seeds)
    assert question_seed(1, "q1") != question_seed(0, "q1")


def test_outcome_explains_each_way_a_sandbox_can_end():
    outcome = SandboxOutcome(time_limit=30, memory_mb=512, started=["sanity", "train"])
    outcome.steps["sanity"] = StepResult("sanity", True, {}, None, 0.1)
    outcome.stopped = "timeout"
    assert "did not finish within the time limit of 30 s" in outcome.why_missing("train")
    outcome.stopped = "memory"
    assert "used more than 512 MB of memory" in outcome.why_missing("train")
    outcome.stopped, outcome.returncode = None, -11
    assert "crashed (SIGSEGV: segmentation fault)" in outcome.why_missing("train")
    assert outcome.why_missing("later").startswith("not run: ")
    outcome.steps["train"] = StepResult("train", False, {}, {"message": "boom", "traceback": "tb"}, 1)
    assert outcome.why_missing("train") == "boom\ntb"


def test_fault_dump_keeps_only_student_frames(tmp_path):
    files = StudentFiles(ROOT, tmp_path)
    dump = (f'Fatal Python error: Segmentation fault\n\nCurrent thread (most recent call first):\n'
            f'  File "{tmp_path}/train.py", line 9 in helper\n'
            f'  File "{tmp_path}/train.py", line 3 in train_regression\n'
            f'  File "{ROOT}/grader/sandbox.py", line 120 in run_step\n')
    assert _student_fault_lines(dump, files) == ('File "train.py", line 3 in train_regression\n'
                                                 'File "train.py", line 9 in helper')


def test_withheld_labels_refuse_use_but_not_python_protocols():
    labels = Withheld("test_labels")
    copied = copy.deepcopy(labels)             # asks for __deepcopy__, __reduce_ex__...
    assert isinstance(copied, Withheld)
    assert not hasattr(labels, "__array_interface__")
    for use in (lambda: labels.shape, lambda: labels[0], lambda: len(labels),
                lambda: np.asarray(labels)):
        with pytest.raises(StepFailure, match="kept by the autograder"):
            use()


def test_project_files_are_not_student_files():
    files = StudentFiles(ROOT, ROOT)
    assert files.contains(str(ROOT / "models.py"))
    assert not files.contains(str(ROOT / "backend.py"))
    assert not files.contains(str(ROOT / "grader" / "sandbox" / "main.py"))
    assert not files.contains("<frozen importlib._bootstrap>")
