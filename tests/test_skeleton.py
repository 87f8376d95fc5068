"""The student skeletons: they import cleanly, every stub is a recognisable stub,
and the grader's table of allowed imports matches what they ship."""

import importlib.util
import inspect
import subprocess
import sys

import numpy as np
import pytest
import torch

import backend
import gpt_model
import losses
import models
import train
from grader.assignments.course.table import ALLOWED_IMPORTS, CURRENT_SKELETONS, STUDENT_FILES
from grader.core.source import is_stub
from grader.judge.imports_check import imports_of
from helpers import REFERENCE, ROOT

MARKER = '"*** YOUR CODE HERE ***"'


@pytest.mark.parametrize("name", STUDENT_FILES)
def test_the_grader_keeps_the_project_folders_skeletons(name):
    """The judge reads a skeleton's names from the grader's copy (a bulk run's staff
    copy holds no student file): it must be the file the project folder ships."""
    assert (ROOT / CURRENT_SKELETONS / name).read_bytes() == (ROOT / name).read_bytes()


def test_skeletons_import_in_a_fresh_interpreter():
    code = "import models, losses, train, gpt_model, chargpt, backend, autograder"
    process = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert process.returncode == 0, process.stderr


@pytest.mark.parametrize("name", sorted(ALLOWED_IMPORTS))
def test_allowed_imports_match_the_shipped_skeleton(name):
    assert imports_of((ROOT / name).read_text()) == ALLOWED_IMPORTS[name]


@pytest.mark.parametrize("name", sorted(ALLOWED_IMPORTS))
def test_reference_solution_uses_only_the_skeleton_imports(name):
    assert imports_of((REFERENCE / name).read_text()) <= ALLOWED_IMPORTS[name]


STUBS = [models.PerceptronModel.__init__, models.PerceptronModel.forward,
         models.PerceptronModel.get_prediction, models.RegressionModel.forward,
         models.DigitClassificationModel.forward, models.LanguageIDModel.forward,
         models.DigitConvolutionalModel.forward, models.AttentionBlock.forward,
         losses.regression_loss, losses.digitclassifier_loss, losses.languageid_loss,
         losses.digitconvolution_loss, train.train_perceptron, train.train_regression,
         train.train_digitclassifier, train.train_languageid, train.train_digitconvolution,
         gpt_model.Transformer_Block.forward, gpt_model.Character_GPT.forward]


@pytest.mark.parametrize("stub", STUBS, ids=lambda f: f.__qualname__)
def test_every_stub_is_marked_and_recognised(stub):
    assert MARKER in inspect.getsource(stub)
    assert is_stub(stub)
    assert stub.__doc__ or stub.__qualname__.endswith("__init__") or \
        inspect.getdoc(stub), "stubs explain what to write"


def test_completed_code_is_not_taken_for_a_stub():
    spec = importlib.util.spec_from_file_location("reference_models", REFERENCE / "models.py")
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    for name in ("Convolve", "PerceptronModel", "AttentionBlock", "DigitConvolutionalModel"):
        assert not is_stub(getattr(reference, name)), name
    assert not is_stub(backend.watch)


def test_stubs_return_none():
    np.random.seed(0)
    perceptron = models.PerceptronModel(3)
    assert list(perceptron.parameters()) == []
    x = torch.ones(1, 3)
    assert perceptron.forward(x) is None and perceptron.get_prediction(x) is None
    assert models.RegressionModel()(torch.ones(4, 1)) is None
    assert models.DigitClassificationModel()(torch.ones(4, 784)) is None
    assert models.LanguageIDModel()(torch.ones(3, 4, 47)) is None
    assert models.DigitConvolutionalModel()(torch.ones(2, 784)) is None
    assert models.AttentionBlock(4, 5)(torch.ones(2, 3, 4)) is None
    assert models.Convolve(torch.ones(4, 4), torch.ones(2, 2)).numel() == 0
    y = torch.ones(4, 10)
    for loss in (losses.regression_loss, losses.digitclassifier_loss, losses.languageid_loss,
                 losses.digitconvolution_loss):
        assert loss(y, y) is None
    assert train.train_perceptron(perceptron, backend.PerceptronDataset(perceptron)) is None
    assert gpt_model.Transformer_Block(8, 4)(torch.ones(1, 3, 8)) is None
    assert gpt_model.Character_GPT(4, 8, 1, 10)(torch.zeros(1, 3, dtype=torch.long)) is None


def test_published_name_variants_are_aliases():
    assert models.Attention is models.AttentionBlock
    assert train.Train_DigitConvolution is train.train_digitconvolution
    assert losses.digitconvolution_Loss is losses.digitconvolution_loss


def test_interface_attributes():
    language = models.LanguageIDModel()
    assert language.num_chars == 47 and len(language.languages) == 5
    block = models.AttentionBlock(6, 5)
    for name in ("k_layer", "q_layer", "v_layer"):
        layer = getattr(block, name)
        assert isinstance(layer, torch.nn.Linear) and tuple(layer.weight.shape) == (6, 6)
    assert tuple(block.mask.shape) == (1, 1, 5, 5)
    assert torch.equal(block.mask[0, 0], torch.tril(torch.ones(5, 5)))
    transformer = gpt_model.Transformer_Block(8, 4)
    for name in ("attn_block", "norm_1", "linear_1", "norm_2"):
        assert hasattr(transformer, name)
    gpt = gpt_model.Character_GPT(4, 8, 2, 10)
    for name in ("embed", "transformer_blocks", "norm", "output_layer"):
        assert hasattr(gpt, name)
    assert len(gpt.transformer_blocks) == 2
    assert isinstance(models.DigitConvolutionalModel().convolution_weights, torch.nn.Parameter)
