"""The similarity engine and ``python -m grader similarity`` (step 14): a disguised
copy is found, honest and minimal work is not flagged, the skeleton is ignored,
archives are compared with students only, and bad input gives notes, not crashes.

The staff solution is tests/reference/; an independently written solution to the
same task is tests/similarity_fixtures/independent/; the disguise (renames,
reordered definitions, comments and blank lines changed, a loop turned into a
comprehension) is applied below as code transforms."""

from __future__ import annotations

import ast
import csv
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import assignments
from grader.instructor.similarity.engine import compare, read_skeletons, student_code
from grader.instructor.similarity.results import Code
from grader.instructor.similarity.tokens import fingerprints, tokens

ROOT = Path(__file__).resolve().parent.parent
COURSE = assignments.get("current")
SKELETONS = read_skeletons(COURSE)
STAFF = {name: (ROOT / "tests/reference" / name).read_text() for name in SKELETONS}
INDEPENDENT = {name: (ROOT / "tests/similarity_fixtures/independent" / name).read_text()
               for name in SKELETONS}

LOOP = """    for i in range(h):
        for j in range(w):
            Output_Tensor = Output_Tensor + weight[i, j] * input[i:i + out_h, j:j + out_w]
"""
COMPREHENSION = """    Output_Tensor = Output_Tensor + sum(
        [weight[i, j] * input[i:i + out_h, j:j + out_w] for i in range(h) for j in range(w)])
"""
RENAMES = {"h": "kh", "w": "kw", "z": "pre", "is_letter": "alive", "h_next": "candidate",
           "Output_Tensor": "acc", "out_h": "rows", "out_w": "cols", "scores": "logits",
           "hidden_1": "layer_a", "hidden_2": "layer_b", "input_size": "n_in",
           "output_size": "n_out", "_fit": "run_epochs", "optimizer": "opt",
           "scheduler": "sched", "dataloader": "loader", "mistakes": "wrong",
           "batch": "mb", "loss": "objective", "loss_fn": "criterion", "n": "normed",
           "block": "layer", "x": "inp"}
ATTRIBUTES = ("hidden_1", "hidden_2")     # renamed after a dot too (self.hidden_1)


def reorder(text: str) -> str:
    """The top-level functions and classes in reverse order."""
    lines = text.splitlines(keepends=True)
    nodes = [node for node in ast.parse(text).body
             if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    starts = [(n.decorator_list[0].lineno if n.decorator_list else n.lineno) - 1
              for n in nodes]
    blocks = ["".join(lines[start:n.end_lineno]) for start, n in zip(starts, nodes)]
    return ("".join(lines[:starts[0]]) + "\n\n".join(reversed(blocks)) + "\n"
            + "".join(lines[nodes[-1].end_lineno:]))


def disguise(text: str) -> str:
    text = reorder(text.replace(LOOP, COMPREHENSION))
    for old, new in RENAMES.items():
        text = re.sub(rf"\b{old}\b" if old in ATTRIBUTES else rf"(?<!\.)\b{old}\b", new, text)
    out = []
    for number, line in enumerate(text.splitlines()):
        line = re.sub(r"\s+#.*$", "", line)             # comments and blank lines go
        if not line.strip():
            continue
        if line.lstrip().startswith("def ") and number % 2:   # others come
            out.append(" " * (len(line) - len(line.lstrip())) + "# a helper of mine")
        out.append(line)
    return "\n".join(out) + "\n"


def fill(skeleton: str, *answers: str) -> str:
    for answer in answers:
        skeleton = skeleton.replace('"*** YOUR CODE HERE ***"', answer, 1)
    return skeleton


def minimal(prediction: str) -> dict[str, str]:
    """The skeleton with a few blanks filled (the perceptron and the losses)."""
    files = dict(SKELETONS)
    files["models.py"] = fill(SKELETONS["models.py"], "self.w = Parameter(ones(1, dimensions))",
                              "return self.w", prediction)
    files["losses.py"] = fill(SKELETONS["losses.py"], "return mse_loss(y_pred, y)",
                              *["return cross_entropy(y_pred, y)"] * 3)
    return files


def codes(owner: str, files: dict[str, str]) -> list[Code]:
    return [Code(owner, name, text, name) for name, text in files.items()]


def class_comparison(archive=()):
    """The class: the staff solution, its disguised copy, an independent solution,
    two minimal fills and the bare skeleton."""
    students = (codes("staff", STAFF)
                + codes("disguised", {name: disguise(text) for name, text in STAFF.items()})
                + codes("independent", INDEPENDENT)
                + codes("minimal_a", minimal("return tensordot(self.w, x)"))
                + codes("minimal_b", minimal("return matmul(x, self.w.T)"))
                + codes("skeleton_only", SKELETONS))
    return compare(students, list(archive), SKELETONS, threshold=0.5)


def show(comparison) -> None:
    for pair in comparison.pairs:       # the scores, for the record (pytest -s)
        print(f"{pair.a:>12} ~ {pair.b:<18} {pair.file:13} {pair.share_a:.2f} "
              f"{pair.share_b:.2f} longest {pair.longest:3} flagged {pair.flagged}")


def test_the_disguise_changes_what_it_says():
    text = disguise(STAFF["models.py"])
    assert "for i in range(kh)" in text and "Output_Tensor" not in text
    assert "# (B, 128)" in STAFF["models.py"] and "# (B, 128)" not in text
    assert "a helper of mine" in text and "\n\n" not in text
    assert text.index("class AttentionBlock") < text.index("class PerceptronModel")
    assert "self.layer_a" in text and "self.w" in text


def test_a_disguised_copy_ranks_first_and_honest_work_is_not_flagged():
    comparison = class_comparison()
    show(comparison)
    top = comparison.pairs[0]
    assert {top.a, top.b} == {"disguised", "staff"} and top.flagged
    flagged = {(p.a, p.b, p.file) for p in comparison.pairs if p.flagged}
    assert {("disguised", "staff", file) for file in ("models.py", "train.py",
                                                       "gpt_model.py")} == flagged
    staff_vs_independent = [p for p in comparison.pairs if {p.a, p.b} == {"staff", "independent"}]
    assert staff_vs_independent and max(p.score for p in staff_vs_independent) < 0.3
    assert not any({p.a, p.b} & {"minimal_a", "minimal_b", "skeleton_only"}
                   for p in comparison.pairs)      # their code is too little to compare
    assert comparison.best["skeleton_only"] == 0 and comparison.best["minimal_a"] == 0
    assert comparison.best["disguised"] > 0.75 and comparison.best["independent"] < 0.3
    assert [p.score for p in comparison.pairs] == sorted((p.score for p in comparison.pairs),
                                                         reverse=True)


def test_a_copy_of_an_archive_solution_is_flagged_and_archives_are_not_paired():
    copier = {name: text.replace("model", "net").replace("opt", "optimiser")
              for name, text in INDEPENDENT.items()}
    archive = (codes("archive:2023/old", INDEPENDENT)
               + codes("archive:web/same", INDEPENDENT)
               + codes("archive:web/disguised", {n: disguise(t) for n, t in INDEPENDENT.items()}))
    comparison = compare(codes("copier", copier) + codes("staff", STAFF), archive, SKELETONS)
    show(comparison)
    flagged = {(p.a, p.b, p.file) for p in comparison.pairs if p.flagged}
    for entry in ("archive:2023/old", "archive:web/same", "archive:web/disguised"):
        assert ("copier", entry, "models.py") in flagged
    assert not any("staff" in (a, b) for a, b, _ in flagged)
    assert not any(p.a.startswith("archive:") or p.b == "staff" and p.a != "copier"
                   for p in comparison.pairs)
    assert set(comparison.best) == {"copier", "staff"}
    assert comparison.archive == {"archive:2023/old", "archive:web/same",
                                  "archive:web/disguised"}


def test_the_regions_show_where_the_copy_matches():
    comparison = class_comparison()
    pair = next(p for p in comparison.pairs if {p.a, p.b} == {"disguised", "staff"}
                and p.file == "models.py")
    side = {"disguised": disguise(STAFF["models.py"]), "staff": STAFF["models.py"]}
    a_lines, b_lines = side[pair.a].splitlines(), side[pair.b].splitlines()
    assert pair.regions and pair.longest >= 5
    for region in pair.regions:
        assert 1 <= region.a_first <= region.a_last <= len(a_lines)
        assert 1 <= region.b_first <= region.b_last <= len(b_lines)
    # The language model's loop is one region, on both sides.
    inside = [r for r in pair.regions
              if any("self.recur" in line for line in a_lines[r.a_first - 1:r.a_last])]
    assert inside and any("self.recur" in line for r in inside
                          for line in b_lines[r.b_first - 1:r.b_last])


def test_names_literals_comments_and_docstrings_do_not_count():
    one = 'def f(a, b):\n    """Add."""\n    return a + b * 2  # sum\n'
    two = "def g(x,\n      y):\n    # doubles\n\n    return x + y * 7\n"
    assert tokens(one)[0] == tokens(two)[0]
    broken = STAFF["train.py"] + "\ndef oops(:\n    '''never closed\n"
    words, _, fallback = tokens(broken)
    assert fallback and len(words) > 300
    assert len(set(fingerprints(broken).hashes) & set(fingerprints(STAFF["train.py"]).hashes)) \
        > 0.9 * len(set(fingerprints(STAFF["train.py"]).hashes))


def test_bad_input_gives_notes_not_crashes(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "models.py").write_bytes(b"\x00\x01PK\x03\x04" + bytes(range(256)) * 10)
    (bad / "train.py").write_text("x_0 = [0] * 3\n" + "".join(
        f"value_{i} = compute({i}, {i + 1})\n" for i in range(120_000)))      # about 3 MB
    (bad / "losses.py").write_bytes(STAFF["losses.py"].replace(
        "Staff", "Équipe").encode("latin-1"))
    (bad / "gpt_model.py").write_bytes(b"")
    found = student_code(bad, COURSE, "bad")
    notes = " | ".join(code.note for code in found if code.note)
    assert "models.py is a binary file" in notes
    assert "train.py is over 1 MB; compared on its first MB" in notes
    assert "losses.py is not UTF-8 text" in notes
    assert next(c for c in found if c.file == "train.py").text.startswith("x_0")
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    (nothing / "notes.ipynb").write_text("{ not json")
    (nothing / "models.py").write_bytes(b"\x00" * 100)
    empty = student_code(nothing, COURSE, "nothing")
    assert any("nothing: no readable code" in code.note for code in empty)
    comparison = compare(found + empty + codes("staff", STAFF), [], SKELETONS)
    assert "nothing" in comparison.best and comparison.best["nothing"] == 0
    assert any("binary" in note for note in comparison.notes)


def test_a_notebook_is_compared_on_its_extracted_code(tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    notebook = new_notebook(cells=[new_markdown_cell("# My homework"),
                                   new_code_cell("import matplotlib.pyplot as plt\n"
                                                 "plt.plot([1, 2])"),
                                   new_code_cell(disguise(STAFF["models.py"])),
                                   new_code_cell("model = RegressionModel()\nprint(model)")])
    nbformat.write(notebook, str(folder / "homework.ipynb"))
    found = {code.file: code for code in student_code(folder, COURSE, "nb")}
    assert found["models.py"].shown_as == "homework.ipynb -> models.py"
    assert "plt.plot" not in found["models.py"].text
    comparison = compare(list(found.values()) + codes("staff", STAFF), [], SKELETONS)
    top = comparison.pairs[0]
    assert {top.a, top.b} == {"nb", "staff"} and top.file == "models.py" and top.flagged


def grader(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "similarity", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def write_files(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def test_the_command_writes_the_csv_and_refuses_bad_input(tmp_path):
    submissions, archive = tmp_path / "class", tmp_path / "archive"
    write_files(submissions / "ann", STAFF)
    write_files(submissions / "bob", {n: disguise(t) for n, t in STAFF.items()})
    write_files(submissions / "cy", INDEPENDENT)
    write_files(submissions / "dee", minimal("return tensordot(self.w, x)"))
    write_files(archive / "2023" / "eve", INDEPENDENT)
    write_files(archive / "2023" / "fay", INDEPENDENT)
    out = tmp_path / "out"
    done = grader(submissions, "--out", out, "--archive", archive / "2023")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((out / "similarity.csv").open()))
    assert list(rows[0]) == ["a", "b", "file", "share_a", "share_b", "longest_lines",
                             "flagged"]
    flagged = {(row["a"], row["b"], row["file"]) for row in rows if row["flagged"] == "yes"}
    assert ("bob", "ann", "models.py") in flagged or ("ann", "bob", "models.py") in flagged
    assert ("cy", "archive:2023/eve", "train.py") in flagged
    assert not any("dee" in (a, b) for a, b, _ in flagged)
    assert not any(row["a"].startswith("archive:") for row in rows)
    assert "flagged" in done.stdout and "Nothing here changes a grade" in done.stdout
    assert not (out / "grades.csv").exists()
    missing = grader(tmp_path / "nowhere", "--out", out)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    no_archive = grader(submissions, "--out", out, "--archive", tmp_path / "gone")
    assert no_archive.returncode == 2 and "--archive" in no_archive.stderr
    (tmp_path / "empty" / "someone").mkdir(parents=True)
    (tmp_path / "empty" / "someone" / "README.txt").write_text("hello")
    empty = grader(tmp_path / "empty", "--out", out)
    assert empty.returncode == 2 and "no submission" in empty.stderr
    unknown = grader(submissions, "--out", out, "--course", "nope")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr
    assert grader(submissions, "--out", out, "--threshold", "1.5").returncode == 2


@pytest.mark.parametrize("threshold", [0.2, 0.95])
def test_the_threshold_decides_the_flag(threshold):
    comparison = compare(codes("a", STAFF) + codes("b", INDEPENDENT), [], SKELETONS,
                         threshold=threshold)
    assert all(pair.flagged == (pair.score >= threshold) for pair in comparison.pairs)
