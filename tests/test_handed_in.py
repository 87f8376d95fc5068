"""grader/core/handed_in.py: notebooks and scripts read, their definitions kept and
their top-level work left out, an expected module assembled with a map back to the
cells. Unit-level: no grading runs (the wiring into the judge comes later)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import traceback

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.core import handed_in
from grader.core.handed_in import UnreadableSource, assemble, extract, read_source
from helpers import ROOT

DEPTH_WIDTH = ROOT / "tests" / "reference_depth_width"
MLP_FROM_SCRATCH = ROOT / "tests" / "reference_mlp_from_scratch"
MARKER = "top_level_ran.txt"


def top_level_names(text: str) -> list[str]:
    return [node.name for node in ast.parse(text).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


def definitions(path) -> list[str]:
    """Each def/class of a staff file as its own text (imports dropped)."""
    text = path.read_text()
    lines = text.split("\n")
    return ["\n".join(lines[node.lineno - 1:node.end_lineno])
            for node in ast.parse(text).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


def write_notebook(path, cells, counts=False):
    notebook = new_notebook(cells=[
        new_markdown_cell(cell[1:]) if cell.startswith("#md") else new_code_cell(cell)
        for cell in cells])
    if counts:
        for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
            cell.execution_count = number + 7
    nbformat.write(notebook, str(path))
    return path


def depth_width_notebook(path):
    """The staff networks.py and answers.py over cells, with typical top-level work."""
    cells = ["#md # Problem set 4, problem 2",
             "!pip install torchsummary\n%matplotlib inline",
             "from google.colab import drive\ndrive.mount('/content/drive')",
             "import numpy as np\nimport torch\nfrom torch import nn\n"
             "from torch.utils.data import DataLoader\nimport matplotlib.pyplot as plt\n"
             "from depth_width_data import load_mnist",
             "train_data, test_data = load_mnist()\nprint(len(train_data))"]
    for index, definition in enumerate(definitions(DEPTH_WIDTH / "networks.py")):
        cells.append(definition)
        if index == 0:
            cells.append("model = model_100()\ntrain_model(model, train_data)\n"
                         "print(accuracy(model, test_data))")
    cells += ["accuracies = dropout_sweep(train_data, test_data)\nplt.plot(accuracies)\n"
              "plt.show()",
              f"open({MARKER!r}, 'w').write('ran')",
              "for step in range(3):\n    print(step)",
              *definitions(DEPTH_WIDTH / "answers.py")]
    return write_notebook(path, cells)


def import_in_child(folder, module: str, *support) -> subprocess.CompletedProcess:
    """Imports ``module`` from ``folder`` in a fresh interpreter run in ``folder``,
    with the project and the support folders on its path; prints its public names."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *map(str, support)])}
    code = (f"import {module}; print(sorted(n for n in vars({module}) "
            "if not n.startswith('_')))")
    return subprocess.run([sys.executable, "-c", code], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_depth_width_notebook_gives_the_staff_modules_without_its_top_level_work(tmp_path):
    notebook = depth_width_notebook(tmp_path / "yue.yisong_set4_prob2.ipynb")
    extraction = extract(read_source(notebook))
    staff = top_level_names((DEPTH_WIDTH / "networks.py").read_text())
    module = assemble("networks.py", staff, [extraction])
    assert module.missing == [] and set(module.chosen) == set(staff)
    assert module.provenance() == ("networks.py <- yue.yisong_set4_prob2.ipynb "
                                   "(cells 5, 7, 8, 9, 10, 11, 12)")
    compile(module.text, "networks.py", "exec")
    for work in ("train_model(model, train_data)", "plt.plot", "print(", "drive.mount",
                 "google.colab", "pip install", "%matplotlib", MARKER, "load_mnist()",
                 "for step in"):
        assert work not in module.text, work
    counts = extraction.counts()
    assert counts == {"shell": 1, "magic": 1, "colab": 2, "assignment": 1, "call": 8,
                      "loop": 1}, counts
    assert extraction.missing_globals == [] and extraction.syntax_errors == []
    (tmp_path / "networks.py").write_text(module.text)
    answers = assemble("answers.py", top_level_names(
        (DEPTH_WIDTH / "answers.py").read_text()), [extraction])
    (tmp_path / "answers.py").write_text(answers.text)
    support = ROOT / "grader" / "assignments" / "depth_width" / "support"
    for name, names in (("networks", staff), ("answers", answers.chosen)):
        child = import_in_child(tmp_path, name, support)
        assert child.returncode == 0, child.stderr
        assert set(names) <= set(ast.literal_eval(child.stdout.strip())), child.stdout
    assert not (tmp_path / MARKER).exists()


def test_a_project3_script_gives_mlp_and_cnn_without_training(tmp_path):
    script = tmp_path / "Project3.py"
    mlp, cnn = (MLP_FROM_SCRATCH / "mlp.py").read_text(), (MLP_FROM_SCRATCH / "cnn.py").read_text()
    script.write_text(mlp + "\n" + cnn + "\nfrom mlp_data import load_digits\n"
                      "dataset = load_digits()\nmodel = MLP()\ntrain_mlp(model, dataset)\n"
                      "network = CNN()\ntrain_cnn(network, dataset, epochs=2)\n"
                      f"open({MARKER!r}, 'w').write('ran')\n"
                      "print(confusion_matrix(model, dataset.test_images, dataset.test_labels))\n")
    extraction = extract(read_source(script))
    assert extraction.source.kind == "script"
    for expected, staff_text in (("mlp.py", mlp), ("cnn.py", cnn)):
        module = assemble(expected, top_level_names(staff_text), [extraction])
        assert module.missing == [] and module.provenance() == f"{expected} <- Project3.py"
        compile(module.text, expected, "exec")
        assert "train_mlp(model, dataset)\n" not in module.text
        assert "CNN()\n" not in module.text and "load_digits()" not in module.text
        assert MARKER not in module.text
        (tmp_path / expected).write_text(module.text)
    assert [item.kind for item in extraction.left_out] == [
        "assignment", "call", "call", "call", "call", "call", "call"]
    assert [item.line for item in extraction.left_out][:2] == [
        len(mlp.split("\n")) + len(cnn.split("\n")) + 2,
        len(mlp.split("\n")) + len(cnn.split("\n")) + 3]
    child = import_in_child(tmp_path, "mlp", ROOT / "grader" / "assignments" /
                            "mlp_from_scratch" / "support")
    assert child.returncode == 0, child.stderr
    names = set(ast.literal_eval(child.stdout.strip()))
    # mlp.py holds the MLP's code only: not the CNN, nor the torch it imports
    assert {"MLP", "train_mlp", "np"} <= names and not {"CNN", "torch", "nn"} & names
    assert not (tmp_path / MARKER).exists()


def test_a_definition_reading_a_left_out_global_names_its_cell_and_line(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", [
        "import torch\nBATCH_SIZE = 32\ndevice = torch.device('cpu')",
        "def train(size):\n    return [size] * BATCH_SIZE",
        "print('start')\nmodel = train(3)",
        "def evaluate():\n    return len(model), device"])
    extraction = extract(read_source(notebook))
    [missing] = extraction.missing_globals
    assert (missing.name, missing.used_by, missing.cell, missing.line) == ("model", "evaluate", 3, 2)
    assert "nb.ipynb, cell 3, line 2" in missing.message
    assert "Move that line into a function" in missing.message
    text = assemble("x.py", ["train", "evaluate"], [extraction]).text
    assert "BATCH_SIZE = 32" in text and "device = torch.device('cpu')" in text
    assert "model = train(3)" not in text


def test_a_cell_with_a_syntax_error_is_named_and_the_others_are_used(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", [
        "def first():\n    return 1",
        "x = 1\ndef broken(:\n    return 2\nclass Lost:\n    pass",
        "def last():\n    return first() + 1"])
    extraction = extract(read_source(notebook))
    [problem] = extraction.syntax_errors
    assert (problem.cell, problem.line, problem.names) == (2, 2, ("broken", "Lost"))
    assert extraction.syntax_messages()[0].startswith("nb.ipynb, cell 2, line 2: syntax error")
    module = assemble("m.py", ["first", "last", "Lost", "nowhere"], [extraction])
    assert module.missing == ["Lost", "nowhere"]
    assert "nb.ipynb, cell 2, line 2" in module.missing_message("Lost")
    assert module.missing_message("nowhere") is None
    namespace = {}
    exec(compile(module.text, "m.py", "exec"), namespace)
    assert namespace["last"]() == 2


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_a_notebook_or_script_with_a_bom_is_read(tmp_path, prefix):
    plain = write_notebook(tmp_path / "plain.ipynb", ["def f():\n    return 'é'"])
    (tmp_path / "bom.ipynb").write_bytes(prefix + plain.read_bytes())
    (tmp_path / "bom.py").write_bytes(prefix + "def f():\n    return 'é'\n".encode())
    for name in ("bom.ipynb", "bom.py"):
        [cell] = read_source(tmp_path / name).cells
        assert cell.text.startswith("def f():") and "'é'" in cell.text


@pytest.mark.parametrize("content, reason", [
    (b'{"cells": [', "is not valid JSON (line 1, column 12"),
    (b'{"name": "not a notebook"}', "is JSON but not a Jupyter notebook"),
    (b'[1, 2]', "is JSON but not a Jupyter notebook"),
    (b'{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, '
     b'"nbformat_minor": 5}', "is not a valid notebook (nbformat says: "),
    (b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "x": "\xe9"}',
     "is not UTF-8 text (byte 0xe9 at position"),
], ids=["invalid-json", "json-object", "json-list", "invalid-cell", "latin-1"])
def test_bad_notebooks_get_a_clear_short_reason(tmp_path, content, reason):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    with pytest.raises(UnreadableSource) as caught:
        read_source(path)
    assert caught.value.reason.startswith(reason), caught.value.reason
    assert str(caught.value).startswith("bad.ipynb: ") and len(caught.value.reason) < 400


def test_a_script_that_is_not_utf8_gets_a_reason(tmp_path):
    (tmp_path / "Project3.py").write_bytes(b"x = '\xe9'\n")
    with pytest.raises(UnreadableSource, match="is not UTF-8 text"):
        read_source(tmp_path / "Project3.py")


def test_an_empty_notebook_is_empty_and_defines_nothing(tmp_path):
    notebook = write_notebook(tmp_path / "empty.ipynb", ["#md just words", "", "  \n"])
    source = read_source(notebook)
    assert source.is_empty and len(source.cells) == 2
    assert not read_source(write_notebook(tmp_path / "full.ipynb", ["x = 1"])).is_empty
    module = assemble("networks.py", ["model_100"], [extract(source)])
    assert module.missing == ["model_100"] and module.provenance() == \
        "networks.py <- (nothing found)"


def test_the_later_cell_wins_and_the_first_source_in_order_wins(tmp_path):
    first = write_notebook(tmp_path / "a.ipynb", [
        "def f():\n    return 'early'", "def g():\n    return 'a'",
        "def f():\n    return 'late'"])
    second = write_notebook(tmp_path / "b.ipynb", [
        "def g():\n    return 'b'", "def h():\n    return f()"])
    order = handed_in.order_sources([second, first])
    assert order == [first, second]
    module = assemble("m.py", ["f", "g", "h"], [extract(read_source(p)) for p in order])
    assert module.chosen["f"].cell == 3 and module.chosen["g"].path == "a.ipynb"
    assert module.provenance() == "m.py <- a.ipynb (cells 2, 3), b.ipynb (cell 2)"
    namespace = {}
    exec(compile(module.text, "m.py", "exec"), namespace)
    assert (namespace["f"](), namespace["g"](), namespace["h"]()) == ("late", "a", "late")


def test_the_expected_file_wins_and_a_notebook_supplies_the_rest(tmp_path):
    (tmp_path / "networks.py").write_text(
        "from __future__ import annotations\nimport torch\n\ndef model_100():\n"
        "    return 'file'\n")
    notebook = write_notebook(tmp_path / "nb.ipynb", [
        "from __future__ import annotations", "def model_100():\n    return 'notebook'",
        "def cnn():\n    return model_100()"])
    module = assemble("networks.py", ["model_100", "cnn"],
                      [extract(read_source(notebook))],
                      expected=read_source(tmp_path / "networks.py"))
    assert module.provenance() == "networks.py <- networks.py, nb.ipynb (cell 3)"
    namespace = {}
    exec(compile(module.text, "networks.py", "exec"), namespace)
    assert namespace["cnn"]() == "file"


def test_magics_and_shell_lines_go_and_line_numbers_stay(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", [
        "%%time\ndef timed():\n    return 1",
        "import os\n!ls -l \\\n  /tmp\nfiles = !ls\n%load_ext autoreload\n"
        "def f():\n    %time x = 1\n    return 'f'",
        "if __name__ == '__main__':\n    f()",
        "try:\n    import torch\n    GPU = torch.cuda.is_available()\nexcept ImportError:\n"
        "    GPU = False\ndef uses():\n    return GPU"])
    extraction = extract(read_source(notebook))
    kinds = [(item.kind, item.cell, item.line) for item in extraction.left_out]
    assert kinds == [("magic", 1, 1), ("shell", 2, 2), ("shell", 2, 4), ("magic", 2, 5),
                     ("magic", 2, 7), ("main_guard", 3, 1)], kinds
    module = assemble("m.py", ["f", "uses", "timed"], [extraction])
    assert module.missing == ["timed"]
    namespace = {}
    exec(compile(module.text, "m.py", "exec"), namespace)
    assert namespace["f"]() == "f" and namespace["uses"]() in (True, False)
    line = module.text.split("\n").index("def f():") + 1
    assert module.where(line) == "nb.ipynb, cell 2, line 6"


@pytest.mark.parametrize("counts", [False, True], ids=["never-run", "run"])
def test_a_traceback_from_a_cell_5_function_names_cell_5(tmp_path, counts):
    notebook = write_notebook(tmp_path / "nb.ipynb", [
        "import math", "x = 1", "print(x)", "def ok():\n    return 1",
        "def fails(value):\n    scale = 2\n    return math.sqrt(value) / 0"], counts=counts)
    module = assemble("networks.py", ["fails", "ok"], [extract(read_source(notebook))])
    generated = str(tmp_path / "work" / "networks.py")
    namespace = {}
    exec(compile(module.text, generated, "exec"), namespace)
    try:
        namespace["fails"](4)
    except ZeroDivisionError:
        text = traceback.format_exc()
    assert f'File "{generated}", line' in text
    relocated = module.relocate(text, generated)
    where = "cell 5 (In [11]), line 3" if counts else "cell 5, line 3"
    assert f'File "nb.ipynb", {where}, in fails' in relocated, relocated
    assert generated not in relocated
    assert module.relocate(text) == relocated      # found by the module's file name


def test_what_was_left_out_is_summed_up_and_listed_for_json(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", [
        "import os\nprint(1)\nprint(2)\nfor i in range(2):\n    pass\n%matplotlib inline"])
    extraction = extract(read_source(notebook))
    assert extraction.summary() == "nb.ipynb: left out 2 calls, 1 loop, 1 magic"
    listed = json.loads(json.dumps(extraction.as_dict()))
    assert listed["left_out_counts"] == {"magic": 1, "call": 2, "loop": 1}
    assert listed["left_out"][0] == {"kind": "call", "cell": 1, "line": 2, "text": "print(1)"}


def test_a_future_import_in_a_later_cell_opens_the_module(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", [
        "import os", "from __future__ import annotations\n"
        "def f(x: NotDefinedAnywhere) -> NotDefinedAnywhere:\n    return 1"])
    module = assemble("m.py", ["f"], [extract(read_source(notebook))])
    namespace = {}
    exec(compile(module.text, "m.py", "exec"), namespace)
    assert namespace["f"].__annotations__["x"] == "NotDefinedAnywhere"
    assert module.where(2) == "nb.ipynb, cell 2, line 1"


def test_without_nbformat_a_notebook_asks_for_pip_install(tmp_path, monkeypatch):
    notebook = write_notebook(tmp_path / "nb.ipynb", ["x = 1"])
    monkeypatch.setitem(sys.modules, "nbformat", None)      # import nbformat fails
    with pytest.raises(UnreadableSource, match="run `pip install nbformat`") as caught:
        read_source(notebook)
    assert caught.value.path == "nb.ipynb"
    monkeypatch.undo()
    assert read_source(notebook).cells[0].text == "x = 1"


def test_a_script_with_a_syntax_error_says_so_with_its_line(tmp_path):
    (tmp_path / "Project3.py").write_text("import numpy as np\n\nclass MLP:\n    def f(self:\n")
    extraction = extract(read_source(tmp_path / "Project3.py"))
    [message] = extraction.syntax_messages()
    assert message.startswith("Project3.py, line 4: syntax error (")
    assert "would have defined MLP" in message
    module = assemble("mlp.py", ["MLP"], [extraction])
    assert module.missing == ["MLP"] and "Project3.py, line 4" in module.missing_message("MLP")


def test_a_definition_left_as_the_skeleton_gave_it_yields_to_the_notebook(tmp_path):
    # A skeleton's placeholder may `return` (the course's Convolve does): unchanged,
    # it is still not the student's answer, so the notebook's definition is graded;
    # a definition the student changed in the file keeps winning.
    skeleton = ("import torch\n\nclass Convolve:\n    def __call__(self, x):\n"
                "        return x  # replace with the convolution\n\n"
                "def helper():\n    return 0\n")
    (tmp_path / "models.py").write_text(skeleton.replace("return 0", "return 'file'"))
    write_notebook(tmp_path / "nb.ipynb", [
        "class Convolve:\n    def __call__(self, x):\n        return 'notebook'",
        "def helper():\n    return 'notebook'"])
    expected = {"models.py": ["Convolve", "helper"]}
    without = handed_in.read_submission(tmp_path, expected)
    assert "models.py" not in without.modules      # no skeleton given: the file wins
    made = handed_in.read_submission(tmp_path, expected, skeletons={"models.py": skeleton})
    module = made.modules["models.py"]
    assert module.provenance() == "models.py <- models.py, nb.ipynb (cell 1)"
    namespace = {}
    exec(compile(module.text, "models.py", "exec"), namespace)
    assert namespace["Convolve"]()(1) == "notebook" and namespace["helper"]() == "file"
