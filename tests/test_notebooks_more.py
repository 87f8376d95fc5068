"""More of step 13 (notebooks and scripts handed in): the import rule of a file
applies to the code graded as that file (an assembled module keeps only what its
definitions need), --verbose lists what was left out, and end to end, the
first-networks and course solutions as notebooks, a mix of a file and a notebook,
and top-level work that never runs, for a notebook and for a script."""

from __future__ import annotations

import ast
import shutil

from grader import assignments
from grader.core.handed_in import assemble, extract, read_source
from grader.judge.imports_check import check_imports
from helpers import ROOT, points_by_test, run_autograder
from test_handed_in import MLP_FROM_SCRATCH, write_notebook
from test_notebooks_graded import grade_side_by_side

MLP_AND_CNN = [
    "import numpy as np\nimport torch\nfrom torch import nn\nimport torch.nn.functional as F",
    "SCALE = 0.1\nSHAPE = (4, 3)\ndevice = torch.device('cpu')",
    "def keep(function):\n    return function",
    "def weights(shape=SHAPE):\n    return SCALE * np.ones(shape)",
    "class Base:\n    pass",
    "@keep\nclass MLP(Base):\n    def __init__(self):\n        self.w = weights()",
    "class CNN(nn.Module):\n    def forward(self, x):\n        return F.relu(x.to(device))",
    "print(MLP().w.sum())",
]


def made(tmp_path, cells, names, expected=None):
    notebook = write_notebook(tmp_path / "hw.ipynb", cells)
    return assemble("mlp.py", names, [extract(read_source(notebook))], expected)


def run(text: str) -> dict:
    namespace = {"__name__": "made"}
    exec(compile(text, "mlp.py", "exec"), namespace)
    return namespace


# ------------------------------------------------------------------- item: imports

def test_a_made_module_keeps_only_what_its_definitions_need_transitively(tmp_path):
    module = made(tmp_path, MLP_AND_CNN, ["MLP"])
    text = module.text
    for needed in ("import numpy as np", "SCALE = 0.1", "SHAPE = (4, 3)",
                   "def keep(", "def weights(", "class Base:", "class MLP(Base):"):
        assert needed in text, needed
    for not_needed in ("import torch", "from torch import nn", "import torch.nn.functional",
                       "device =", "class CNN"):
        assert not_needed not in text, not_needed
    assert run(text)["MLP"]().w.shape == (4, 3)
    # what cnn.py needs, from the same notebook
    cnn = made(tmp_path, MLP_AND_CNN, ["CNN"]).text
    assert "import torch\n" in cnn and "device = torch.device('cpu')" in cnn
    assert "class MLP" not in cnn and "SCALE" not in cnn


def test_star_future_and_dotted_imports_stay_when_they_may_be_needed(tmp_path):
    module = made(tmp_path, [
        "from __future__ import annotations\nfrom math import *\nimport os.path\n"
        "import json as unused",
        "def where():\n    return os.path.join('a', str(floor(2.5)))"], ["where"])
    for kept in ("from __future__ import annotations", "from math import *",
                 "import os.path"):
        assert kept in module.text, kept
    assert "import json" not in module.text
    assert run(module.text)["where"]() == "a/2"


def test_the_expected_file_stays_whole_and_its_reads_are_kept(tmp_path):
    expected = tmp_path / "mlp.py"
    expected.write_text("import wave\n\n\ndef train_mlp():\n    return helper()\n")
    module = made(tmp_path, ["import numpy as np\nimport pickle",
                             "def helper():\n    return np.zeros(2)",
                             "def confusion_matrix():\n    return pickle"],
                  ["train_mlp", "confusion_matrix"], read_source(expected))
    assert "import wave" in module.text            # the expected file as handed in
    assert "def helper" in module.text and "import numpy as np" in module.text
    assert "import pickle" in module.text
    assert list(run(module.text)["train_mlp"]()) == [0, 0]


def test_a_made_module_is_import_checked_where_its_code_is(tmp_path):
    assignment = assignments.get("mlp-from-scratch")
    mlp, cnn = (MLP_FROM_SCRATCH / "mlp.py").read_text(), (MLP_FROM_SCRATCH / "cnn.py").read_text()
    honest = tmp_path / "honest"
    honest.mkdir()
    (honest / "Project3.py").write_text(mlp + "\n" + cnn)
    torch_line = (mlp + "\n" + cnn).split("\n").index("import torch") + 1
    sigmoid = "def sigmoid(a):\n    return 1 / (1 + np.exp(-a))"
    assert sigmoid in mlp
    uses_torch = tmp_path / "uses_torch"
    uses_torch.mkdir()
    (uses_torch / "Project3.py").write_text(mlp.replace(sigmoid, (
        "def sigmoid(a):\n    return torch.sigmoid(torch.as_tensor(a)).numpy()")) + "\n" + cnn)
    found = {}
    for folder in (honest, uses_torch):
        extraction = extract(read_source(folder / "Project3.py"))
        modules = {name: assemble(name, names, [extraction]) for name, names in (
            ("mlp.py", ["MLP", "train_mlp", "confusion_matrix"]),
            ("cnn.py", ["CNN", "train_cnn"]))}
        found[folder.name] = check_imports(folder, assignment, modules)
    assert not found["honest"]
    assert found["uses_torch"].by_file == {"mlp.py": (
        f"Project3.py, line {torch_line} (used as mlp.py): `import torch` is not allowed: "
        "the code used as mlp.py may import only numpy, matplotlib, time and mlp_data; "
        "write it with those",)}


def test_project3_with_torch_for_its_cnn_keeps_the_mlp_points_under_enforce_imports(
        tmp_path):
    mlp, cnn = (MLP_FROM_SCRATCH / "mlp.py").read_text(), (MLP_FROM_SCRATCH / "cnn.py").read_text()
    marker = tmp_path / "top_level_ran.txt"
    work = (f"\nMLP()\n{marker_cell(marker)}\nif __name__ == '__main__':\n"
            f"    open({str(marker)!r}, 'w').write('ran')\n")   # a script's top level
    folders = []
    for name, mlp_text in (("honest", mlp), ("uses_torch", mlp.replace(
            "return 1 / (1 + np.exp(-a))",
            "return torch.sigmoid(torch.as_tensor(a)).numpy()"))):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "Project3.py").write_text(mlp_text + "\n" + cnn + work)
        folders.append(folder)
    torch_line = (mlp + "\n" + cnn).split("\n").index("import torch") + 1
    args = ("-q", "q1", "--enforce-imports", "--isolation", "none")
    (honest, honest_results), (uses, uses_results) = grade_side_by_side(
        tmp_path, (folders[0], args), (folders[1], args))
    assert honest_results["total"] == honest_results["max"] == 5, honest.stdout
    assert "import torch" not in honest.stdout and "Warning" not in honest.stdout
    assert uses_results["total"] == 0, uses.stdout
    assert (f"*** Warning: Project3.py, line {torch_line} (used as mlp.py): `import torch` "
            "is not allowed: the code used as mlp.py may import only numpy") in uses.stdout
    assert "--enforce-imports holds your files" in uses.stdout
    assert not marker.exists()


def test_imports_only_another_files_code_uses_are_not_counted_against_this_file(tmp_path):
    write_notebook(tmp_path / "hw.ipynb", [
        "from torch import nn, optim, tensor\nimport torch\nimport torch.nn as tnn",
        "class Block(nn.Module):\n    def make(self):\n        import json\n"
        "        return optim, json, torch.zeros(1)",
        "class GPT(nn.Module):\n    def block(self):\n        return Block(), tensor"])
    extraction = extract(read_source(tmp_path / "hw.ipynb"))
    # Block is models.py's (as `from models import Block` would bring it in)
    module = assemble("gpt_model.py", ["GPT"], [extraction], elsewhere=["Block"])
    assert "class Block" in module.text and "import torch\n" in module.text
    lines = module.text.split("\n")
    foreign = {(lines[line - 1].strip()[:20], name) for line, name in module.foreign_imports}
    assert foreign == {("from torch import nn", "optim"), ("import torch", "torch"),
                       ("import torch.nn as t", "torch.nn"), ("import json", "json")}
    # without another file, Block is gpt_model.py's own code, and its imports too
    own = assemble("gpt_model.py", ["GPT"], [extraction])
    assert {name for _, name in own.foreign_imports} == {"torch.nn"}   # tnn: read by none


# ------------------------------------------------------------------- item: --verbose

def test_verbose_lists_each_left_out_statement_with_its_cell_and_line(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    write_notebook(folder / "hw.ipynb", [
        "%matplotlib inline",
        "def conv_parameters():\n    return 8 * (5 * 5 * 3 + 1)",
        "print(conv_parameters())\nfor _ in range(2):\n    pass"], counts=True)
    args = ("--course", "depth-width", "-q", "q3b", "--isolation", "none")
    (brief, _), (verbose, results) = grade_side_by_side(
        tmp_path, (folder, args), (folder, (*args, "--verbose")))
    summary = ("Note: hw.ipynb: left out 1 call, 1 loop, 1 magic (not run by the "
               "autograder")
    assert f"{summary}; --verbose lists each)\n" in brief.stdout, brief.stdout
    assert (f"{summary}):\n"
            "    hw.ipynb, cell 1 (In [7]), line 1: %matplotlib inline\n"
            "    hw.ipynb, cell 3 (In [9]), line 1: print(conv_parameters())\n"
            "    hw.ipynb, cell 3 (In [9]), line 2: for _ in range(2):\n") in verbose.stdout, \
        verbose.stdout
    assert results["questions"]["q3b"]["points"] == 2
    assert [item["line"] for item in results["handed_in"]["sources"][0]["left_out"]] == [1, 1, 2]
    process, _ = run_autograder("--help")
    shown = "".join(process.stdout.split())     # wrapped as wide as the terminal
    assert "--verbosefornotebooksandscriptshandedin,listeverytop-levelstatement" \
        "theautograderleftout(notrun)" in shown, process.stdout


# ------------------------------------------------------------------- end to end

FIRST_NETWORKS = ROOT / "tests" / "reference_first_networks"
COURSE = ROOT / "tests" / "reference"
TYPICAL_START = ["#md # My work (run every cell in order)",
                 "!pip install torch torchvision\n%matplotlib inline",
                 "from google.colab import drive\ndrive.mount('/content/drive')"]


def imports_of(paths, own=()) -> str:
    """The top-level imports of the staff files, but those of their own modules
    (in one notebook, everything is defined in the same place)."""
    found = []
    for path in paths:
        text = path.read_text()
        for node in ast.parse(text).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not (
                    isinstance(node, ast.ImportFrom) and node.module in own):
                found.append(ast.get_source_segment(text, node))
    return "\n".join(dict.fromkeys(found))


def definitions_with_work(path, work: str) -> list[str]:
    """The staff file's definitions (a cell each, its aliases such as
    ``Attention = AttentionBlock`` beside them), then a cell of top-level ``work``."""
    text = path.read_text()
    lines = text.split("\n")
    cells = ["\n".join(lines[node.lineno - 1:node.end_lineno])
             for node in ast.parse(text).body
             if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Assign))]
    return cells + [work]


def marker_cell(marker) -> str:
    return f"with open({str(marker)!r}, 'w') as marker:\n    marker.write('ran')"


def first_networks_notebook(path, marker, files=("quadrants.py", "mnist_linear.py")):
    work = {
        "quadrants.py": (
            "points, labels = quadrant_dataset(1000, 0)\nnet = QuadrantNet()\n"
            "train_quadrants(net, TensorDataset(points, labels))\n"
            "plt.scatter(points[:, 0], points[:, 1], c=labels)\nplt.show()"),
        "mnist_linear.py": (
            "train_data, test_data = load_mnist()\nmodel = DigitNet()\n"
            "history = train_mnist(model, train_data, test_data)\nprint(history[-1])\n"
            f"open({str(marker)!r}, 'w').write('ran')")}
    cells = [*TYPICAL_START, imports_of([FIRST_NETWORKS / f for f in files]) +
             "\nfrom torch.utils.data import TensorDataset\nimport matplotlib.pyplot as plt"
             "\nfrom first_networks_data import load_mnist"]
    for name in files:
        cells += definitions_with_work(FIRST_NETWORKS / name, work[name])
    return write_notebook(path, [*cells, marker_cell(marker)], counts=True)


def test_first_networks_as_one_notebook_and_as_a_file_plus_a_notebook_earn_what_the_files_earn(
        tmp_path):
    marker = tmp_path / "top_level_ran.txt"
    notebook_dir, mixed_dir = tmp_path / "notebook", tmp_path / "mixed"
    notebook_dir.mkdir()
    mixed_dir.mkdir()
    first_networks_notebook(notebook_dir / "first_networks.ipynb", marker)
    shutil.copy(FIRST_NETWORKS / "quadrants.py", mixed_dir / "quadrants.py")
    first_networks_notebook(mixed_dir / "part2.ipynb", marker, files=("mnist_linear.py",))
    args = ("-q", "q1,q3", "--isolation", "none")   # the fast ones: q2 and q4 train
    (_, files), (notebook, from_notebook), (mixed, from_mixed) = grade_side_by_side(
        tmp_path, (FIRST_NETWORKS, args), (notebook_dir, args), (mixed_dir, args))
    assert files["total"] == files["max"] == 4
    for process, results in ((notebook, from_notebook), (mixed, from_mixed)):
        assert results["course"] == "first-networks", process.stdout   # recognised
        assert points_by_test(results) == points_by_test(files), process.stdout
    assert not marker.exists()
    lines = notebook.stdout.splitlines()
    assert lines[2:4] == [
        "Note: quadrants.py <- first_networks.ipynb (cells 4, 5, 6, 7)",
        "Note: mnist_linear.py <- first_networks.ipynb (cells 9, 10, 11, 12, 13)"], notebook.stdout
    assert "first_networks.ipynb: left out " in lines[4] and "1 with-block" in lines[4]
    assert "Note: mnist_linear.py <- part2.ipynb (cells" in mixed.stdout, mixed.stdout
    assert "quadrants.py <-" not in mixed.stdout
    assert sorted(p.name for p in mixed_dir.iterdir()) == ["part2.ipynb", "quadrants.py"]


def test_the_course_project_as_one_notebook_is_recognised_and_earns_what_the_files_earn(
        tmp_path):
    marker = tmp_path / "top_level_ran.txt"
    folder = tmp_path / "notebook"
    folder.mkdir()
    files = ("models.py", "losses.py", "train.py", "gpt_model.py")
    work = {"models.py": "model = PerceptronModel(2)\nprint(model)",
            "losses.py": "print(regression_loss)",
            "train.py": ("dataset = backend.PerceptronDataset(model)\n"
                         "train_perceptron(model, dataset)\n"
                         "for epoch in range(3):\n    print(epoch)"),
            "gpt_model.py": f"open({str(marker)!r}, 'w').write('ran')"}
    cells = [*TYPICAL_START, imports_of([COURSE / name for name in files],
                                        own=("models", "losses")) + "\nimport backend"]
    for name in files:
        cells += definitions_with_work(COURSE / name, work[name])
    write_notebook(folder / "project.ipynb", [*cells, marker_cell(marker)])
    # the course holds each file to its skeleton's imports: the notebook's one import
    # cell, and gpt_model.py's code using models.py's AttentionBlock, break none
    args = ("-q", "q1,q2", "--isolation", "none", "--enforce-imports")
    (_, files_results), (process, results) = grade_side_by_side(
        tmp_path, (COURSE, args), (folder, args))
    assert files_results["total"] == files_results["max"] == 10
    assert results["course"] == files_results["course"] == "current", process.stdout
    assert points_by_test(results) == points_by_test(files_results), process.stdout
    assert not marker.exists()
    out = process.stdout
    assert "Warning" not in out, out
    assert "Note: graded as" not in out or "project.ipynb" in out.splitlines()[1], out
    for name in files:
        assert f"Note: {name} <- project.ipynb (cell" in out, out
