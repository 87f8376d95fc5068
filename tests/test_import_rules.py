"""Each assignment's import rule (ImportRule in its table, checked by
grader/judge/imports_check.py from the source): an honest solution that imports the
standard library and what the docstrings name passes, even with --enforce-imports;
what the grading machine lacks, or what a handout forbids, warns; the course keeps
its skeleton-only rule. And every student README states each question's time limit
and the import rule, from the table."""

from __future__ import annotations

import ast
import re
import shutil

import pytest

from grader import assignments
from grader.core.handout_text import time_limit_words
from grader.judge.imports_check import (RULE_ENFORCED, RULE_INTRO, SKELETON_ONLY_ENFORCED,
                                        SKELETON_ONLY_INTRO, check_imports)
from helpers import REFERENCE, ROOT, grade_json, make_submission, messages, points_by_test

RULED = ("first-networks", "depth-width", "mlp-from-scratch")

# What an honest student adds: the standard library, and what the skeletons'
# docstrings and the support modules tell them to use.
HONEST = {
    "first-networks": {
        "quadrants.py": "import math\nimport random\nfrom collections import Counter\n"
                        "import torch.nn.functional as F\nfrom torch.utils.data import "
                        "TensorDataset\nimport numpy as np\nimport matplotlib.pyplot as plt\n",
        "mnist_linear.py": "from itertools import islice\nimport torch.nn.functional\n"
                           "from first_networks_data import load_mnist\nfrom torch.utils.data "
                           "import TensorDataset\nimport time\nimport quadrants\n"
                           "from my_own_helpers import tidy\n",
    },
    "depth-width": {
        "networks.py": "import copy\nimport itertools\nfrom torch.utils.data import "
                       "random_split, Subset\nimport torch.nn.functional as F\n"
                       "from depth_width_data import load_mnist\nimport matplotlib.pyplot as plt\n"
                       "import answers\n",
        "answers.py": "import math\nfrom fractions import Fraction\nimport torch\n",
    },
    "mlp-from-scratch": {
        "mlp.py": "import time\nimport numpy.linalg\nimport matplotlib.pyplot as plt\n"
                  "from mlp_data import load_digits\n",
        "cnn.py": "import time\nimport torch.nn.functional as F\nfrom torch.utils.data import "
                  "DataLoader, TensorDataset\nfrom mlp_data import load_digits\n"
                  "import matplotlib\n",
    },
}


def honest_solution(name: str, folder):
    """The staff solution of ``name`` with the imports above prepended, and a helper
    module of the student's own beside it."""
    assignment = assignments.get(name)
    shutil.copytree(ROOT / assignment.reference, folder)
    for file_name, imports in HONEST[name].items():
        path = folder / file_name
        path.write_text("from __future__ import annotations\n" + imports + path.read_text())
    (folder / "my_own_helpers.py").write_text("def tidy(x):\n    return x\n")
    return assignment


@pytest.mark.parametrize("name", RULED)
def test_an_honest_solution_raises_no_import_warning(tmp_path, name):
    assignment = honest_solution(name, tmp_path / "student")
    found = check_imports(tmp_path / "student", assignment)
    assert not found and found.by_file == {}


def docstring_imports(text: str) -> set[str]:
    """The import statements written out in ``text``'s docstrings (or in the
    prose of a README), e.g. ``from first_networks_data import load_mnist``."""
    lines = re.findall(r"^\s*((?:from [\w.]+ )?import [\w., ]+?)\s*$", text, re.MULTILINE)
    return {line for line in lines if ast.parse(line)}


def named_by_the_handout(assignment) -> set[str]:
    """Every import statement the skeletons, support modules and README spell out,
    and every ``torch.x.y.Name`` they name, as 'from torch.x.y import Name'."""
    texts = [(ROOT / file.skeleton).read_text() for file in assignment.files]
    texts += [(ROOT / module).read_text() for module in assignment.support_modules]
    texts.append(assignment.release.readme(assignment))
    statements = set()
    for text in texts:
        docs = [ast.get_docstring(node) or "" for node in ast.walk(ast.parse(text))
                if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))] \
            if not text.startswith("#") else [text]
        for doc in docs:
            statements |= docstring_imports(doc)
            statements |= {f"from {module} import {name}" for module, name in
                           re.findall(r"\b(torch(?:\.\w+)*)\.([A-Z]\w*)", doc)}
    return statements


@pytest.mark.parametrize("name", RULED)
def test_what_the_handout_names_is_allowed_in_every_file(tmp_path, name):
    assignment = assignments.get(name)
    named = named_by_the_handout(assignment)
    if name == "first-networks":   # the issue's examples are among them
        assert {"from first_networks_data import load_mnist",
                "from torch.utils.data import TensorDataset"} <= named
    assert named, "the handout names no import"
    student = tmp_path / "student"
    shutil.copytree(ROOT / assignment.reference, student)
    for file_name in assignment.student_files:
        path = student / file_name
        path.write_text("\n".join(sorted(named)) + "\n" + path.read_text())
    found = check_imports(student, assignment)
    assert not found, found.by_file


@pytest.mark.parametrize("name, file_name", [("first-networks", "mnist_linear.py"),
                                             ("depth-width", "networks.py")])
@pytest.mark.parametrize("module", ["torchvision", "sklearn"])
def test_a_module_the_grading_machine_lacks_warns(tmp_path, name, file_name, module):
    assignment = honest_solution(name, tmp_path / "student")
    path = tmp_path / "student" / file_name
    path.write_text(path.read_text() + f"\nimport {module}\nimport no_such_module_here\n")
    found = check_imports(tmp_path / "student", assignment)
    support = assignment.support_names[0]
    assert found.by_file == {file_name: tuple(
        f"{file_name}: `import {missing}`: {missing} is not installed where you will be "
        f"graded; do it with the standard library, torch, numpy, matplotlib, {support} or "
        "files of your own (handed in with the others)"
        for missing in sorted((module, "no_such_module_here")))}
    assert found.intro() == RULE_INTRO
    assert found.enforced([file_name]) == RULE_ENFORCED


def test_a_student_helper_is_allowed_only_where_it_is(tmp_path):
    assignment = honest_solution("first-networks", tmp_path / "student")
    (tmp_path / "student" / "my_own_helpers.py").unlink()
    found = check_imports(tmp_path / "student", assignment)
    assert list(found.by_file) == ["mnist_linear.py"]
    assert "`from my_own_helpers import tidy`: my_own_helpers is not installed" in found.by_file[
        "mnist_linear.py"][0]


def test_mlp_py_may_import_numpy_matplotlib_and_time_only(tmp_path):
    assignment = honest_solution("mlp-from-scratch", tmp_path / "student")
    for file_name in ("mlp.py", "cnn.py"):
        path = tmp_path / "student" / file_name
        path.write_text(path.read_text() + "\nimport torch\nfrom math import exp\n")
    found = check_imports(tmp_path / "student", assignment)
    only_mlp = "mlp.py may import only numpy, matplotlib, time and mlp_data; write it with those"
    only_cnn = ("cnn.py may import only numpy, matplotlib, time, torch and mlp_data; write it "
                "with those")
    assert found.by_file == {
        "mlp.py": (f"mlp.py: `from math import exp` is not allowed: {only_mlp}",
                   f"mlp.py: `import torch` is not allowed: {only_mlp}"),
        "cnn.py": (f"cnn.py: `from math import exp` is not allowed: {only_cnn}",),
    }


def test_the_course_keeps_its_skeleton_only_rule(tmp_path):
    student = make_submission(tmp_path / "student", {"train.py": "import itertools\n"})
    found = check_imports(student, assignments.get())
    assert found.by_file == {
        "train.py": ("train.py: `import itertools` is not one of the skeleton's imports",)}
    assert found.intro() == SKELETON_ONLY_INTRO
    assert found.enforced(["train.py"]) == SKELETON_ONLY_ENFORCED
    assert not check_imports(make_submission(tmp_path / "reference"), assignments.get())


def test_an_honest_solution_keeps_its_points_with_imports_enforced(tmp_path):
    """End to end, on the cheapest question: nothing is said, nothing is lost."""
    honest_solution("first-networks", tmp_path / "student")
    process, results = grade_json(tmp_path, tmp_path / "student", "--course",
                                  "first-networks", "-q", "q1", "--enforce-imports")
    assert "Warning" not in process.stdout and "import" not in messages(results, "q1")
    assert sum(points_by_test(results).values()) == results["max"] == 2, process.stdout


@pytest.mark.parametrize("name", list(assignments.registry()))
def test_every_readme_states_each_time_limit_and_the_import_rule(name):
    assignment = assignments.get(name)
    readme = " ".join(assignment.release.readme(assignment).split())
    for question in assignment.questions:
        assert f"{question.id} {time_limit_words(question.time_limit)}" in readme, question.id
    assert "## Imports" in readme


def test_the_readmes_say_the_limits_and_rules_the_issue_names():
    def readme(name):
        assignment = assignments.get(name)
        return " ".join(assignment.release.readme(assignment).split())
    assert "q2c 10 min, q2d 10 min, q2e 15 min" in readme("depth-width")
    assert "`mlp.py` may import `numpy`, `matplotlib`, `time` and `mlp_data` only" \
        in readme("mlp-from-scratch")
    assert "torchvision and scikit-learn, for example, are not" in readme("first-networks")
    assert "may import only what their skeletons import" in readme("current")
    assert (time_limit_words(60), time_limit_words(90), time_limit_words(45)) == \
        ("1 min", "1 min 30 s", "45 s")
