"""Saved figures (--save-plots): drawn by the judge from what was scored.

The drawing functions are checked on synthetic arrays (fast); a few quick questions
are graded through the real command line to check that the saved figures show the
numbers the grader judged, and that figures never cost points or change a score.
"""

from __future__ import annotations

import base64
import html
import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import backend
from grader.assignments.course import figure_plans as question_figures
from grader.assignments.course.table import QUESTIONS, QUESTIONS_BY_ID
from grader.checks.classifier import confusion_matrix
from grader.core.results import PASSED, CheckResult, QuestionResult
from grader.figures import drawing as figures
from grader.figures import html as html_figures
from grader.figures.plans import draw_question_figures
from grader.instructor.grading import gradescope
from grader.judge.report import write_gradescope
from helpers import REFERENCE, ROOT, make_submission, run_autograder


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG file; fails the test if it is not one."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def assert_readable_png(path: Path) -> None:
    """A PNG a person can read at 100%: 400-1400 pixels wide, a sensible file."""
    width, height = png_size(path)
    assert 400 <= width <= 1400 and 250 <= height <= 1400, (path, width, height)
    assert 5_000 < Path(path).stat().st_size < 400_000, path


def assert_titled_and_labelled(figure) -> None:
    """A title somewhere, and both axes labelled on every plot that shows axes
    (colour bars need only their one label)."""
    titles = [ax.get_title() for ax in figure.axes] + [
        figure._suptitle.get_text() if figure._suptitle else ""]
    assert any(titles), "the figure has no title"
    for ax in figure.axes:
        if not ax.axison:
            continue
        if ax.get_label() == "<colorbar>":
            assert ax.get_ylabel() or ax.get_xlabel()
        else:
            assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()


# ------------------------------------------------------------ drawing functions

def test_confusion_matrix_counts_each_prediction_once(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 1000)
    predicted = np.where(rng.random(1000) < 0.9, labels, rng.integers(0, 10, 1000))
    drawn = figures.confusion_figure(confusion_matrix(labels, predicted, 10),
                                     [str(d) for d in range(10)], "Digits", "digit")
    matrix = drawn.data["matrix"]
    assert matrix.sum() == 1000 and np.trace(matrix) == np.sum(labels == predicted)
    assert matrix[labels[0], predicted[0]] >= 1
    assert matrix[3].sum() == np.sum(labels == 3)          # rows are the true class
    assert drawn.data["accuracy"] == pytest.approx(np.mean(labels == predicted))
    assert_titled_and_labelled(drawn.figure)
    assert_readable_png(figures.save_png(drawn.figure, tmp_path / "c.png"))


def test_regression_curve_is_the_predictions_it_is_given(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.permutation(np.linspace(-6, 6, 50))
    predictions = np.sin(x) + 0.1
    fresh = rng.uniform(-6, 6, 20)
    drawn = figures.regression_figure(x, predictions, fresh, np.sin(fresh))
    order = np.argsort(x)
    assert np.array_equal(drawn.data["curve_x"], x[order])
    assert np.array_equal(drawn.data["curve_y"], predictions[order])
    line_x, line_y = drawn.figure.axes[0].lines[1].get_data()
    assert np.array_equal(line_y, predictions[order]) and np.array_equal(line_x, x[order])
    assert drawn.data["mse"] == pytest.approx(0.01) and drawn.data["fresh_mse"] == 0
    assert_titled_and_labelled(drawn.figure)
    assert_readable_png(figures.save_png(drawn.figure, tmp_path / "r.png"))


def test_perceptron_boundary_counts_mistakes_with_the_prediction_rule():
    points = np.array([[1.0, 1.0], [-1.0, -1.0], [2.0, -3.0], [0.0, 0.0]])
    labels = np.array([1.0, -1.0, 1.0, 1.0])
    drawn = figures.perceptron_figure(points, labels, np.array([1.0, 1.0, 0.0]))
    # Scores 2, -2, -1, 0: the third point is wrong; a score of 0 means +1.
    assert drawn.data["mistakes"].tolist() == [False, False, True, False]
    assert drawn.data["accuracy"] == 0.75
    assert_titled_and_labelled(drawn.figure)


def test_most_confidently_wrong_digits_come_first():
    labels = np.array([0, 1, 2, 3])
    probabilities = np.full((4, 10), 0.01)
    probabilities[0, 0] = 0.91                    # right
    probabilities[1, 7] = 0.6                     # wrong, less sure
    probabilities[2, 5] = 0.9                     # wrong, surest
    probabilities[3, 3] = 0.5                     # right
    drawn = figures.confident_mistakes_figure(np.zeros((4, 784)), labels, probabilities)
    assert drawn.data["indices"].tolist() == [2, 1]
    titles = [ax.get_title() for ax in drawn.figure.axes if ax.get_title()]
    assert titles[0].startswith("predicted 5") and "true 2" in titles[0]


def test_validation_curve_falls_back_to_call_numbers():
    by_epoch = figures.validation_figure(np.array([[0.5, 0.8], [1.0, 0.9]]), "Digits")
    assert by_epoch.data["x"].tolist() == [0.5, 1.0]
    assert by_epoch.figure.axes[0].get_xlabel() == "epochs of training data read"
    no_reads = figures.validation_figure(np.array([[0.0, 0.8], [0.0, 0.9]]), "Digits")
    assert no_reads.data["x"].tolist() == [1, 2]


@pytest.mark.parametrize("name", ["templates", "words", "kernel", "attention", "gpt"])
def test_every_other_figure_is_titled_labelled_and_readable(name, tmp_path):
    rng = np.random.default_rng(2)
    weights = np.tril(rng.random((8, 8)))
    weights /= weights.sum(axis=1, keepdims=True)
    make = {
        "templates": lambda: figures.templates_figure(rng.normal(size=(30, 784)), 400),
        "words": lambda: figures.word_probabilities_figure(
            ["hello", "hola", "hei"], np.array([0, 1, 2]), rng.dirichlet(np.ones(5), 3),
            ["English", "Spanish", "Finnish", "Dutch", "Polish"]),
        "kernel": lambda: figures.kernel_figure(rng.normal(size=(3, 3)), rng.random((28, 28)),
                                                rng.normal(size=(26, 26))),
        "attention": lambda: figures.attention_figure(weights, weights),
        "gpt": lambda: figures.gpt_figure(np.linspace(3, 1, 60), "to be, o", "r not"),
    }
    drawn = make[name]()
    assert_titled_and_labelled(drawn.figure)
    assert_readable_png(figures.save_png(drawn.figure, tmp_path / f"{name}.png"))


# ------------------------------------------------------- the judge's side of figures

def test_attention_weights_are_recovered_from_the_block_output():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 16))
    layers = {f"{n}_{p}": rng.standard_normal((16, 16) if p == "weight" else 16) * 0.3
              for n in ("q_layer", "k_layer", "v_layer") for p in ("weight", "bias")}
    expected = question_figures.attention_weights(x, layers)
    values = x @ layers["v_layer_weight"].T + layers["v_layer_bias"]
    recovered = question_figures.recovered_weights(x, layers, expected @ values)
    assert np.allclose(recovered, expected, atol=1e-8)
    assert np.allclose(np.triu(expected, 1), 0) and np.allclose(expected.sum(axis=1), 1)
    unmasked = question_figures.softmax(
        (x @ layers["q_layer_weight"].T + layers["q_layer_bias"])
        @ (x @ layers["k_layer_weight"].T + layers["k_layer_bias"]).T / 4)
    peeking = question_figures.recovered_weights(x, layers, unmasked @ values)
    assert np.abs(np.triu(peeking, 1)).max() > 0.01      # a missing mask shows


def test_example_words_are_the_surest_right_and_wrong_per_language():
    labels = np.array([0, 0, 0, 1, 1])
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7], [0.4, 0.6]])
    assert question_figures.example_words(labels, probabilities).tolist() == [0, 2, 3]


def fake_outcome(arrays: dict, figures_problem=None):
    """A stand-in for the sandbox's outcome with these arrays ('step.name')."""
    return SimpleNamespace(array=lambda step, name: arrays.get(f"{step}.{name}"),
                           step=lambda key: None, figures_problem=figures_problem)


def test_a_figure_that_fails_to_draw_is_a_one_line_note(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("no ink")
    monkeypatch.setattr(figures, "perceptron_figure", broken)
    probes = {"train_x": np.ones((5, 3), np.float32), "train_y": np.ones((5, 1), np.float32)}
    outcome = fake_outcome({"converge.weights": np.ones((1, 3), np.float32)}, "no time")
    saved = draw_question_figures(QUESTIONS_BY_ID["q1"], outcome, probes, {}, None, tmp_path)
    assert saved.paths == ()
    assert saved.notes[0] == "the figure q1.png was not drawn (ValueError: no ink)"
    assert "no time" in saved.notes[1]
    # Missing data (the step failed) draws nothing and says nothing.
    empty = draw_question_figures(QUESTIONS_BY_ID["q1"], fake_outcome({}), probes, {},
                                  None, tmp_path)
    assert empty.paths == () and empty.notes == ()


# ---------------------------------------------------------- Gradescope embedding

def results_with_figures(folder: Path, picture) -> list[QuestionResult]:
    """One passed result per question, each with its key figure ``picture(path)``."""
    results = []
    for question in QUESTIONS:
        path = folder / f"{question.id}.png"
        picture(path)
        checks = tuple(CheckResult(question.id, c.key, c.title, c.points, c.points, PASSED,
                                   "shape <B, 10> & more") for c in question.checks)
        results.append(QuestionResult(question, checks, figures=(str(path),)))
    return results


def small_picture(path: Path) -> None:
    drawn = figures.perceptron_figure(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1.0, -1.0]),
                                      np.array([1.0, -1.0, 0.0]))
    figures.save_png(drawn.figure, path)


def noise_picture(path: Path) -> None:
    """About 1 MB of incompressible pixels: some versions fit, not all."""
    from PIL import Image
    pixels = np.random.default_rng(4).integers(0, 256, (560, 600, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def test_gradescope_results_embed_each_key_figure_in_html(tmp_path):
    target = tmp_path / "results.json"
    write_gradescope(target, results_with_figures(tmp_path, small_picture), "text", 1.0)
    document = json.loads(target.read_text())
    with_pictures = [t for t in document["tests"] if t.get("output_format") == "html"]
    assert len(with_pictures) == len(QUESTIONS)          # one test per question
    for test in with_pictures:
        assert '<img src="data:image/png;base64,' in test["output"]
        assert f"<pre>{html.escape('shape <B, 10> & more')}" in test["output"]
    plain = [t for t in document["tests"] if "output_format" not in t]
    assert plain and all("<pre>" not in t["output"] for t in plain)
    assert target.stat().st_size < html_figures.RESULTS_LIMIT


def test_gradescope_results_stay_under_the_size_limit(tmp_path):
    target = tmp_path / "results.json"
    results = results_with_figures(tmp_path, noise_picture)
    assert sum(Path(r.figures[0]).stat().st_size for r in results) > 3 * 10**6
    write_gradescope(target, results, "text", 1.0)
    assert target.stat().st_size < html_figures.EMBED_BUDGET
    outputs = [t["output"] for t in json.loads(target.read_text())["tests"]
               if t.get("output_format") == "html"]
    assert len(outputs) == len(QUESTIONS)
    assert any("not shown here: results.json has a size limit" in o for o in outputs)
    assert all(("size limit" in o) != ("<img" in o) for o in outputs)   # a picture or a note


def test_a_picture_over_its_share_goes_in_smaller_rather_than_not_at_all(tmp_path):
    small_picture(tmp_path / "p.png")
    original = (tmp_path / "p.png").read_bytes()
    encoded = len(base64.b64encode(original))
    assert html_figures.png_within(tmp_path / "p.png", encoded) == original
    smaller = html_figures.png_within(tmp_path / "p.png", encoded - 1)
    assert smaller is not None and len(smaller) < len(original)
    assert png_size(tmp_path / "p.png")[0] >= 400
    assert html_figures.png_within(tmp_path / "p.png", 100) is None


def test_gradescope_writer_drops_pictures_that_would_break_the_limit(tmp_path):
    picture = "x" * 700_000
    results = {"score": 1, "output": "", "tests": [
        {"output": f'<pre>a</pre>\n<img src="data:image/png;base64,{picture}" alt="q">'}
        for _ in range(2)]}
    gradescope.write_results(tmp_path / "results.json", results)
    assert (tmp_path / "results.json").stat().st_size < html_figures.RESULTS_LIMIT
    assert "figure removed" in results["tests"][0]["output"]


# ------------------------------------------------------------- end to end

def spy(monkeypatch, name: str) -> list:
    """Record what ``figures.<name>`` returns while the judge draws."""
    drawn, original = [], getattr(figures, name)

    def recording(*args, **kwargs):
        drawn.append(original(*args, **kwargs))
        return drawn[-1]
    monkeypatch.setattr(figures, name, recording)
    return drawn


def grade_in_process(*args: str) -> dict:
    """Run autograder.py's main in this process (the sandboxes are still separate
    processes), so that the judge's figure functions can be watched."""
    from grader.judge import cli
    json_path = Path(args[args.index("--json") + 1])
    assert cli.main(["--mute", *args]) == 0
    return json.loads(json_path.read_text())


def metrics(results: dict) -> dict:
    return {t["name"]: (t["points"], t["metric"]) for t in results["tests"]}


def test_reference_figures_show_what_was_scored(tmp_path, monkeypatch):
    fits, attention, gpt = (spy(monkeypatch, name) for name in
                            ("regression_figure", "attention_figure", "gpt_figure"))
    plots = tmp_path / "plots"
    results = grade_in_process("-q", "q1,q2,q6,q7", "--student-dir", str(REFERENCE),
                               "--no-graphics", "--save-plots", str(plots),
                               "--json", str(tmp_path / "r.json"))
    assert results["total"] == 12
    for question in ("q1", "q2", "q6", "q7"):
        assert results["questions"][question]["figures"] == [f"{question}.png"]
        assert_readable_png(plots / f"{question}.png")
    judged = next(t["metric"] for t in results["tests"] if t["name"].startswith("q2: train"))
    [fit] = fits
    assert np.mean((fit.data["curve_y"] - np.sin(fit.data["curve_x"])) ** 2) \
        == pytest.approx(judged, rel=1e-9)
    assert attention[0].data["largest_difference"] < 1e-6      # the reference is right
    assert "generated" in gpt[0].figure.axes[1].texts[0].get_text()
    # The same grade, to the last digit, without figures.
    _, plain = run_autograder("-q", "q1,q2,q6,q7", "--student-dir", str(REFERENCE),
                              "--no-graphics", "--json", str(tmp_path / "plain.json"))
    assert metrics(plain) == metrics(results)
    assert plain["questions"]["q1"]["figures"] == []


QUICK_DIGITS = """
def train_digitclassifier(model, dataset):
    # A quarter epoch, asking for the validation accuracy three times: quick, not good.
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    for step, batch in enumerate(DataLoader(dataset, batch_size=100, shuffle=True)):
        optimizer.zero_grad()
        digitclassifier_loss(model(batch["x"]), batch["label"]).backward()
        optimizer.step()
        if step % 50 == 49:
            dataset.get_validation_accuracy()
        if step == 149:
            return
"""


def test_digit_figures_match_the_judged_accuracy(tmp_path, monkeypatch):
    confusions, validations = spy(monkeypatch, "confusion_figure"), \
        spy(monkeypatch, "validation_figure")
    student = make_submission(tmp_path / "student", {"train.py": QUICK_DIGITS})
    plots = tmp_path / "plots"
    results = grade_in_process("-q", "q3", "--student-dir", str(student), "--save-plots",
                               str(plots), "--no-graphics", "--json", str(tmp_path / "r.json"))
    judged = next(t["metric"] for t in results["tests"] if t["check"] == "train")
    matrix = confusions[0].data["matrix"]
    assert matrix.sum() == 5000 and np.trace(matrix) == round(judged * 5000)
    assert validations[0].data["x"] == pytest.approx([1 / 12, 2 / 12, 3 / 12])
    names = ["q3.png", "q3-mistakes.png", "q3-weights.png", "q3-validation.png"]
    assert results["questions"]["q3"]["figures"] == names
    for name in names:
        assert_readable_png(plots / name)


def test_figure_data_failures_cost_no_points(tmp_path):
    student = make_submission(tmp_path / "student", {"gpt_model.py": """
def _unfinished_generate(self, idx, max_new_tokens):
    raise RuntimeError("generate is unfinished")
Character_GPT.generate = _unfinished_generate
"""})
    process, results = run_autograder("-q", "q6,q7", "--student-dir", str(student),
                                      "--no-graphics", "--save-plots", str(tmp_path / "p"),
                                      "--json", str(tmp_path / "r.json"))
    assert all(t["status"] == "passed" for t in results["tests"]), process.stdout
    assert "generate is unfinished" in " ".join(results["questions"]["q7"]["warnings"])
    assert_readable_png(tmp_path / "p" / "q7.png")            # the loss curve, no sample


PLOTTING_PROBE = """
import sys as _sys


def _plotting_loaded():
    return any(name.split(".")[0] == "matplotlib" for name in _sys.modules)


_reference_forward, _reference_generate = Character_GPT.forward, Character_GPT.generate


def _probed_forward(self, input):
    print("plotting loaded in the sandbox:", _plotting_loaded())
    return _reference_forward(self, input)


def _probed_generate(self, idx, max_new_tokens):
    print("generating a sample for the figure")
    return _reference_generate(self, idx, max_new_tokens)


Character_GPT.forward, Character_GPT.generate = _probed_forward, _probed_generate
"""


@pytest.mark.parametrize("flags", [[], ["--save-plots", "plots"]], ids=["plain", "figures"])
def test_the_sandbox_never_imports_plotting_without_graphics(flags, tmp_path):
    # q7's forward runs in every step and, with figures, in its figure_data (the
    # sample), so the probe sees the sandbox from start to end.
    student = make_submission(tmp_path / "student", {"gpt_model.py": PLOTTING_PROBE})
    process, _ = run_autograder("-q", "q7", "--student-dir", str(student), "--no-graphics",
                                *flags, cwd=tmp_path)
    assert "plotting loaded in the sandbox: False" in process.stdout, process.stdout
    assert "plotting loaded in the sandbox: True" not in process.stdout
    assert ("generating a sample for the figure" in process.stdout) == bool(flags)
    assert (tmp_path / "plots" / "q7.png").is_file() == bool(flags)


def test_gradescope_run_embeds_figures_only_when_asked(tmp_path):
    root = tmp_path / "autograder"
    make_submission(root / "submission")
    results = gradescope.grade(root, questions="q6")
    [test] = results["tests"]
    assert test["output_format"] == "html" and "data:image/png;base64," in test["output"]
    assert html_figures.document_size(results) < html_figures.RESULTS_LIMIT
    plain = gradescope.grade(root, questions="q6", figures=False)
    assert "output_format" not in plain["tests"][0] and "<img" not in plain["tests"][0]["output"]


def test_chargpt_plot_writes_the_loss_curve(tmp_path):
    for name in ("models.py", "gpt_model.py"):
        (tmp_path / name).write_text((REFERENCE / name).read_text())
    (tmp_path / "chargpt.py").write_text((ROOT / "chargpt.py").read_text())
    env = dict(os.environ, MPLBACKEND="Agg")
    process = subprocess.run(
        [sys.executable, "chargpt.py", "--dry-run", "--input", str(ROOT / "data" / "shakespeare.txt"),
         "--plot", "loss.png"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr
    assert "loss curve saved to loss.png" in process.stdout
    assert_readable_png(tmp_path / "loss.png")



class SummedLetters(torch.nn.Module):
    """A tiny language model: one linear layer on the sum of the letters."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(47, 5)

    def forward(self, xs):
        return self.linear(xs.sum(0))                           # (L, B, 47) -> (B, 5)


def test_validation_history_is_recorded_without_changing_the_value():
    dataset = backend.LanguageIDDataset(SummedLetters())
    first = dataset.get_validation_accuracy()
    next(iter(DataLoader(dataset, batch_size=len(dataset) // 4)))
    second = dataset.get_validation_accuracy()
    assert first == second == dataset.accuracy("dev")           # the value is unchanged
    assert dataset.validation_history == [(0.0, first), (0.25, second)]
