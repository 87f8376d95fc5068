"""More of step 13 (notebooks and scripts handed in): the import rule of a file
applies to the code graded as that file (an assembled module keeps only what its
definitions need), --verbose lists what was left out, and end to end, the
first-networks and course solutions as notebooks, a mix of a file and a notebook,
and top-level work that never runs, for a notebook and for a script."""

from __future__ import annotations

from grader import assignments
from grader.core.handed_in import assemble, extract, read_source
from grader.judge.imports_check import check_imports
from helpers import points_by_test, run_autograder
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
    expected.write_text("import torch\n\n\ndef train_mlp():\n    return helper()\n")
    module = made(tmp_path, ["import numpy as np\nimport pickle",
                             "def helper():\n    return np.zeros(2)",
                             "def confusion_matrix():\n    return pickle"],
                  ["train_mlp", "confusion_matrix"], read_source(expected))
    assert "import torch" in module.text           # the expected file as handed in
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
    folders = []
    for name, mlp_text in (("honest", mlp), ("uses_torch", mlp.replace(
            "return 1 / (1 + np.exp(-a))",
            "return torch.sigmoid(torch.as_tensor(a)).numpy()"))):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "Project3.py").write_text(mlp_text + "\n" + cnn + "\nMLP()\n")
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
