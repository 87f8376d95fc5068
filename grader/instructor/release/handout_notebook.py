"""The release's handout as a notebook: ``<release folder>.ipynb`` beside
``autograder.py`` in the student zip (grader/instructor/release/student_zip.py).

Its cells, in order:

1. "Working in Colab?" and a code cell to run first: in Colab it unzips the uploaded
   release zip and changes into its folder (in Jupyter it does nothing of the kind);
   it defines ``grade()``, which the grading cells call.
2. The student README, one markdown cell per section.
3. How to work in the notebook, then per student file: a heading with the skeleton's
   docstring, a cell of its imports and module-level code, and one cell per top-level
   function or class, with the skeleton's code. An import of another student file
   (``from losses import ...``) becomes a comment: that file's cells are above.
   After the last file a question uses, a cell grades that question.
4. A cell that grades everything.

The setup and grading cells hold their work in ``if __name__ == "__main__":`` blocks,
which the autograder leaves out of a notebook (grader/core/handed_in.py): the
notebook graded is only its definitions. ``grade()`` copies the saved notebook
alone into a temporary folder and runs ``autograder.py --student-dir`` on it, so
that the skeleton ``.py`` files beside the notebook in the release folder are not
graded in its stead (an expected file wins every name it defines filled in, and a
skeleton's provided code counts as filled in).

The notebook's JSON is the same on every build (fixed cell ids, sorted keys).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from grader.core.table import Assignment

SETUP_TAG = "autograder"     # the tag of the cells that bring the folder in and grade
_FENCE = re.compile(r"^\s*(```|~~~)")

COLAB_MARKDOWN = """\
# {title}: the notebook handout

**Working in Colab?** Upload the release zip you were given (the Files panel on the
left, or run the next cell and choose the zip when it asks), then run the next cell:
it unzips the zip into `/content` and changes into its folder, `{folder}/`, where the
autograder is. Run that cell again after each restart of the runtime.

**In Jupyter** open this notebook from the unzipped folder `{folder}/` (it is
already there) and run the next cell too: it defines `grade()`, which the grading
cells below call.
"""

SETUP_CELL = '''\
# Run this cell first (in Jupyter as in Colab). The autograder leaves out
# `if __name__ == "__main__":` blocks, so nothing in this cell is graded.
if __name__ == "__main__":
    import glob
    import json
    import os
    import subprocess
    import sys
    import tempfile
    import time
    import zipfile

    RELEASE = "{folder}"  # the folder the release zip holds
    COURSE = "{course}"  # what the autograder grades (--course)
    NOTEBOOK = "{notebook}"  # this notebook's file name: change it if you rename it
    IN_COLAB = "google.colab" in sys.modules

    def release_zips():
        """The zips in /content that hold the release folder."""
        found = []
        for path in sorted(glob.glob("/content/*.zip")):
            try:
                with zipfile.ZipFile(path) as archive:
                    if RELEASE + "/autograder.py" in archive.namelist():
                        found.append(path)
            except zipfile.BadZipFile:
                pass
        return found

    if IN_COLAB and not os.path.isfile("autograder.py"):
        home = os.path.join("/content", RELEASE)
        if not os.path.isfile(os.path.join(home, "autograder.py")):
            if not release_zips():
                from google.colab import files
                print(f"Choose the release zip (the one that holds {{RELEASE}}/).")
                files.upload()
            if not release_zips():
                raise SystemExit(f"No zip in /content holds {{RELEASE}}/autograder.py: "
                                 "upload the release zip you were given and run this "
                                 "cell again.")
            with zipfile.ZipFile(release_zips()[0]) as archive:
                archive.extractall("/content")
        os.chdir(home)
    print("Working in", os.getcwd())
    if not os.path.isfile("autograder.py"):
        print(f"autograder.py is not here: open this notebook from the unzipped "
              f"{{RELEASE}}/ folder (Jupyter), or upload the release zip (Colab).")

    def saved_notebook():
        """(file name, bytes) of this notebook as saved; in Colab, as it is now."""
        if IN_COLAB:
            try:
                from google.colab import _message
                reply = _message.blocking_request("get_ipynb", timeout_sec=60)
                return NOTEBOOK, json.dumps(reply["ipynb"]).encode("utf-8")
            except Exception as error:  # noqa: BLE001 - say what to do instead
                print(f"Could not read this notebook from Colab ({{error}}). Download it "
                      f"(File > Download > Download .ipynb), upload it into "
                      f"{{os.getcwd()}} as {{NOTEBOOK}}, and grade again.")
                if not os.path.isfile(NOTEBOOK):
                    return None
        path = os.environ.get("JPY_SESSION_NAME", "")
        if not (path.endswith(".ipynb") and os.path.isfile(path)):
            path = NOTEBOOK
        if not os.path.isfile(path):
            print(f"{{NOTEBOOK}} is not in {{os.getcwd()}}: set NOTEBOOK in the first "
                  "code cell to this notebook's file name, run that cell, and save.")
            return None
        saved = time.strftime("%H:%M:%S", time.localtime(os.path.getmtime(path)))
        print(f"Grading {{os.path.basename(path)}} as saved at {{saved}} (save it first: "
              "the autograder reads the saved file).")
        with open(path, "rb") as notebook:
            return os.path.basename(path), notebook.read()

    def grade(questions=""):
        """Runs the autograder on this notebook alone: questions "" (all), "q1" or
        "q1,q2". The saved notebook is copied into an empty temporary folder and
        graded there, so the skeleton .py files in this folder are not graded."""
        if not os.path.isfile("autograder.py"):
            print("autograder.py is not in this folder: run the first code cell.")
            return
        found = saved_notebook()
        if found is None:
            return
        name, content = found
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, name), "wb") as copy:
                copy.write(content)
            command = [sys.executable, "autograder.py", "--course", COURSE,
                       "--no-graphics", "--student-dir", folder]
            command += ["-q", questions] if questions else []
            with subprocess.Popen(command, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) as run:
                try:
                    for line in run.stdout:
                        print(line, end="")
                except KeyboardInterrupt:
                    run.terminate()    # the autograder stops its questions
                    print("Stopped.")
'''

WORKING_MARKDOWN = """\
## Working in this notebook

Write your code in the cells below instead of the `.py` files: each function and
class you write has a cell of its own with the skeleton's code and docstring. Keep
the names (the autograder looks them up), and keep each definition in a cell of its
own or with other definitions. Cells of your own for experiments (training, plots,
prints) are welcome: the autograder grades the definitions (imports, functions,
classes, and the constants they read, such as `BATCH_SIZE = 64`) and never runs
top-level work.

The grading cells run `python autograder.py` on this notebook alone: `grade()` copies
the **saved** notebook into an empty folder and grades it there (the skeleton `.py`
files beside it are not graded). Save the notebook (Ctrl+S) before grading. In Colab
the notebook is read as it is, saved or not. Hand in this notebook (`.ipynb`).
"""

GRADE_CELL = '''\
if __name__ == "__main__":
    grade("{questions}")'''


def notebook_name(assignment: Assignment) -> str:
    """'first-networks.ipynb': named after the release's folder."""
    return f"{assignment.release.folder}.ipynb"


def markdown_sections(text: str) -> list[str]:
    """``text`` (Markdown) cut before each heading (``#``-lines outside code fences)."""
    sections, current, fenced = [], [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        if not fenced and line.startswith("#") and any(s.strip() for s in current):
            sections.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    if any(s.strip() for s in current):
        sections.append("\n".join(current).strip("\n"))
    return sections


def _statement_range(node: ast.stmt) -> tuple[int, int]:
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return first, node.end_lineno


def _other_file_import(node: ast.stmt, own_modules: set[str]) -> list[str] | None:
    """The names a statement imports from another student file (None if it does not)."""
    if isinstance(node, ast.ImportFrom) and not node.level and node.module in own_modules:
        return [alias.asname or alias.name for alias in node.names]
    if isinstance(node, ast.Import) and any(a.name in own_modules for a in node.names):
        return [alias.asname or alias.name for alias in node.names]
    return None


def skeleton_cells(text: str, own_modules: set[str], filename: str = "<skeleton>"
                   ) -> tuple[str, list[str]]:
    """A skeleton as (its docstring, its code cells): a cell per top-level function or
    class (the comment lines above it included), module-level statements between
    them grouped in cells of their own. Imports from ``own_modules`` (the other
    student files) become a comment, since the notebook defines those names above."""
    tree = ast.parse(text, filename=filename)
    lines = text.splitlines()
    body = list(tree.body)
    docstring = ""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        docstring = ast.get_docstring(tree) or ""
        start = body[0].end_lineno
        body = body[1:]
    else:
        start = 0
    cells: list[list[str]] = []
    grouping = False    # the last cell holds module-level statements, not a definition
    for node in body:
        first, last = _statement_range(node)
        above = lines[start:first - 1]   # blank and comment lines since the last one
        names = _other_file_import(node, own_modules)
        if names is not None:
            module = node.module if isinstance(node, ast.ImportFrom) else "another file"
            code = [f"# {', '.join(names)}: defined above in this notebook (the cells "
                    f"of {module}.py)"]
        else:
            code = lines[first - 1:last]
        definition = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if definition or not grouping:
            cells.append([])
        cells[-1] += above + code
        grouping = not definition
        start = last
    return docstring, ["\n".join(cell).strip("\n") for cell in cells
                       if "\n".join(cell).strip()]


def _questions_after(assignment: Assignment) -> dict[str, list[str]]:
    """Student file -> the questions whose last file (in the assignment's order) it is."""
    order = list(assignment.student_files)
    after: dict[str, list[str]] = {name: [] for name in order}
    for question in assignment.questions:
        files = [name for name in question.student_files if name in after]
        if files:
            after[max(files, key=order.index)].append(question.id)
    return after


def handout_notebook(assignment: Assignment, root: Path, readme: str) -> str:
    """The notebook's JSON text (nbformat 4, validated) for ``assignment``, from its
    skeletons under ``root`` and its student ``readme``.

    Raises RuntimeError when nbformat is missing or the notebook does not validate."""
    try:
        import nbformat
        from nbformat import v4
    except ImportError:
        raise RuntimeError("writing the notebook handout needs the nbformat package; run "
                           "`pip install nbformat` (or `pip install -e .`)") from None
    cells = []

    def add(kind: str, text: str, tags: tuple[str, ...] = ()) -> None:
        make = v4.new_markdown_cell if kind == "markdown" else v4.new_code_cell
        cell = make(text)
        cell["id"] = f"{kind}-{len(cells) + 1}"   # fixed: two builds are identical
        if tags:
            cell["metadata"]["tags"] = list(tags)
        cells.append(cell)

    folder = assignment.release.folder
    title = (markdown_sections(readme)[0].splitlines() or [folder])[0].lstrip("# ").strip()
    add("markdown", COLAB_MARKDOWN.format(title=title, folder=folder))
    add("code", SETUP_CELL.format(folder=folder, course=assignment.name,
                                  notebook=notebook_name(assignment)), (SETUP_TAG,))
    for section in markdown_sections(readme):
        add("markdown", section)
    add("markdown", WORKING_MARKDOWN)
    own_modules = {Path(name).stem for name in assignment.student_files}
    after = _questions_after(assignment)
    for student_file in assignment.files:
        path = root / student_file.skeleton
        docstring, code_cells = skeleton_cells(path.read_text(encoding="utf-8"),
                                               own_modules, str(path))
        add("markdown", f"## `{student_file.name}`\n\n" + (docstring or
            f"The cells of `{student_file.name}`."))
        for code in code_cells:
            add("code", code)
        if after[student_file.name]:
            questions = ",".join(after[student_file.name])
            add("markdown", f"### Check {', '.join(after[student_file.name])}\n\nSave "
                "the notebook, then run the next cell: it grades "
                f"`python autograder.py -q {questions}` on this notebook.")
            add("code", GRADE_CELL.format(questions=questions), (SETUP_TAG,))
    add("markdown", "## Grade everything\n\nSave the notebook, then run the next cell: "
        "it grades every question on this notebook, as `python autograder.py` would. "
        "Hand in this notebook.")
    add("code", GRADE_CELL.format(questions=""), (SETUP_TAG,))
    notebook = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError as error:
        raise RuntimeError(f"the notebook handout is not a valid notebook: "
                           f"{error.message}") from None
    return nbformat.writes(notebook) + "\n"
