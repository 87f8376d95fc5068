"""Does a notebook or a script cost time or points against the same code as files?

Builds, in a temporary folder, two pairs of submissions holding the same staff code:

    depth-width       tests/reference_depth_width/ (networks.py, answers.py) as files,
                      and as one Colab notebook, yue.yisong_set4_prob2.ipynb, whose cells
                      also do a Colab student's top-level work: `!pip install torch`,
                      `%matplotlib inline`, `from google.colab import drive` and
                      `drive.mount(...)`, loading MNIST, training every network (minutes
                      if it ran), a dropout sweep, plots and prints
    mlp-from-scratch  tests/reference_mlp_from_scratch/ (mlp.py, cnn.py) as files, and
                      as one script, Project3.py, that trains both networks, prints and
                      plots at top level (no main guard), as the project's handout has it

and grades each pair side by side in one run, with ``autograder.py --student-dir DIR
--course NAME -q QUESTIONS --no-graphics --json`` in a subprocess per grading,
alternating files and notebook/script (the order swaps every repeat). It prints the
wall time of each grading (the whole subprocess: start, reading the submission, the
questions, the report) and the part of it outside the questions, where reading the
notebook or script happens (wall time less the JSON's ``seconds``); the points of both
(they must be equal: MISMATCH and exit status 1 otherwise); and the first lines of the
notebook's and the script's output, where the notes on where the names came from and
what was left out appear.

    python benchmarks/notebook_vs_files.py                  # once, idle machine
    python benchmarks/notebook_vs_files.py --repeat 3 --busy
    python benchmarks/notebook_vs_files.py --pairs mlp-from-scratch --questions q1,q2,q3,q4,q5

The default questions take about 45 s (depth-width: the written answers and q2c,
which trains model_100) and 12 s (mlp-from-scratch: q1-q4, which train the MLP) per
grading on two idle cores. ``--busy`` runs one process spinning on a core beside the
measurement (as a student's laptop running something else, or a bulk run).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
DEPTH_WIDTH = ROOT / "tests" / "reference_depth_width"
MLP_FROM_SCRATCH = ROOT / "tests" / "reference_mlp_from_scratch"
HEAD_LINES = 12


def definitions(path: Path) -> list[str]:
    """The text of each top-level def and class of a staff file, in order."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    return ["\n".join(lines[node.lineno - 1:node.end_lineno])
            for node in ast.parse(text).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


def write_notebook(path: Path, cells: list[str]) -> Path:
    """A notebook as Colab saves one: markdown cells start with "#md", code cells get
    execution counts (as after running the notebook top to bottom)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    made, count = [], 0
    for cell in cells:
        if cell.startswith("#md"):
            made.append(new_markdown_cell(cell[len("#md"):].strip()))
        else:
            count += 1
            made.append(new_code_cell(cell, execution_count=count))
    notebook = new_notebook(cells=made, metadata={
        "colab": {"provenance": []},
        "kernelspec": {"display_name": "Python 3", "name": "python3"},
        "language_info": {"name": "python"}})
    nbformat.write(notebook, str(path))
    return path


def copy_files(reference: Path, folder: Path) -> None:
    for source in sorted(reference.glob("*.py")):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"),
                                          encoding="utf-8")


def depth_width_notebook(folder: Path) -> None:
    """networks.py and answers.py over the cells of one problem-set notebook, between
    the top-level work a Colab student does."""
    networks = definitions(DEPTH_WIDTH / "networks.py")
    cells = ["#md # Problem set 4, problem 2: depth against width",
             "!pip install torch\n%matplotlib inline",
             "from google.colab import drive\ndrive.mount('/content/drive')",
             "import numpy as np\nimport torch\nfrom torch import nn\n"
             "from torch.utils.data import DataLoader\nimport matplotlib.pyplot as plt\n"
             "from depth_width_data import load_mnist",
             "train_data, test_data = load_mnist()\nprint(len(train_data), len(test_data))",
             "#md ## 2C-2E: dense networks"]
    for definition in networks:
        cells.append(definition)
    cells += ["for make in (model_100, model_200, model_1000):\n"
              "    model = make()\n    train_model(model, train_data)\n"
              "    print(make.__name__, accuracy(model, test_data))",
              "#md ## 3G: the CNN",
              "model = cnn()\ntrain_model(model, train_data)\n"
              "print('cnn', accuracy(model, test_data))",
              "accuracies = dropout_sweep(train_data, test_data)\n"
              "plt.plot(accuracies)\nplt.xlabel('dropout')\nplt.show()",
              "#md ## Problems 1 and 3: written answers",
              "import numpy as np",
              *definitions(DEPTH_WIDTH / "answers.py"),
              "print(or_network())\nprint(max_pool(np.arange(16.0).reshape(4, 4)))"]
    write_notebook(folder / "yue.yisong_set4_prob2.ipynb", cells)


def project3_script(folder: Path) -> None:
    """mlp.py and cnn.py as one Project3.py that trains and plots when run."""
    mlp = (MLP_FROM_SCRATCH / "mlp.py").read_text(encoding="utf-8")
    cnn = (MLP_FROM_SCRATCH / "cnn.py").read_text(encoding="utf-8")
    (folder / "Project3.py").write_text(
        '"""CS 156a, Project 3: an MLP by hand in numpy, then a CNN in torch."""\n'
        + mlp + "\n\n" + cnn + "\n\n"
        "import matplotlib.pyplot as plt\nfrom mlp_data import load_digits\n\n"
        "dataset = load_digits()\nmodel = MLP()\ntrain_mlp(model, dataset)\n"
        "print(confusion_matrix(model, dataset.test_images, dataset.test_labels))\n"
        "for index, image in enumerate(templates(model)):\n"
        "    plt.subplot(2, 5, index + 1)\n    plt.imshow(image)\nplt.show()\n"
        "network = CNN()\ntrain_cnn(network, dataset)\n", encoding="utf-8")


@dataclass(frozen=True)
class Pair:
    course: str
    questions: str
    files: Callable[[Path], None]
    handed_in: Callable[[Path], None]
    label: str                      # what the handed-in side is


PAIRS = {
    "depth-width": Pair("depth-width", "q1d,q1e,q2c,q3b,q3c,q3d,q3e",
                        lambda folder: copy_files(DEPTH_WIDTH, folder),
                        depth_width_notebook, "notebook"),
    "mlp-from-scratch": Pair("mlp-from-scratch", "q1,q2,q3,q4",
                             lambda folder: copy_files(MLP_FROM_SCRATCH, folder),
                             project3_script, "Project3.py"),
}


@dataclass
class Grading:
    seconds: float
    results: dict | None
    stdout: str
    stderr: str
    returncode: int


def grade(folder: Path, course: str | None, questions: str, json_path: Path) -> Grading:
    command = [sys.executable, str(ROOT / "autograder.py"), "--student-dir", str(folder),
               "-q", questions, "--no-graphics", "--json", str(json_path)]
    if course:
        command += ["--course", course]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DISPLAY", None)
    json_path.unlink(missing_ok=True)
    started = time.monotonic()
    process = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    results = (json.loads(json_path.read_text(encoding="utf-8"))
               if json_path.exists() else None)
    return Grading(seconds, results, process.stdout, process.stderr, process.returncode)


def points(grading: Grading) -> dict[str, float] | None:
    if grading.results is None:
        return None
    return {test["name"]: test["points"] for test in grading.results["tests"]}


def outside(grading: Grading) -> float | None:
    """Seconds of the run outside the grading of the questions (the interpreter's
    start, reading the submission, recognition, the report): wall time less the
    judge's own count (the JSON's ``seconds``, from just before the first question)."""
    if grading.results is None:
        return None
    return grading.seconds - grading.results["seconds"]


def total(grading: Grading) -> str:
    if grading.results is None:
        return f"no results (exit status {grading.returncode})"
    return f"{grading.results['total']:g}/{grading.results['max']:g} points"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=",".join(PAIRS),
                        help=f"which pairs, comma-separated (default: {','.join(PAIRS)})")
    parser.add_argument("--questions", default=None,
                        help="grade these questions in every pair (default: each pair's "
                             + "; ".join(f"{name}: {pair.questions}"
                                         for name, pair in PAIRS.items()) + ")")
    parser.add_argument("--repeat", type=int, default=1,
                        help="grade each submission this many times (default: 1)")
    parser.add_argument("--busy", action="store_true",
                        help="run beside one process that keeps a core busy")
    parser.add_argument("--recognise", action="store_true",
                        help="leave out --course: the autograder recognises the assignment")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.pairs.split(",") if name.strip()]
    unknown = [name for name in names if name not in PAIRS]
    if unknown:
        parser.error(f"unknown pair(s) {', '.join(unknown)}; choose from {', '.join(PAIRS)}")

    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start"
          f"{', beside one busy process' if args.busy else ''}", flush=True)
    busy = (subprocess.Popen([sys.executable, "-c", "while True: pass"])
            if args.busy else None)
    failed = False
    try:
        with tempfile.TemporaryDirectory(prefix="notebook_vs_files_") as temporary:
            temporary = Path(temporary)
            for name in names:
                pair = PAIRS[name]
                questions = args.questions or pair.questions
                folders = {"files": temporary / name / "files",
                           pair.label: temporary / name / "handed_in"}
                for folder in folders.values():
                    folder.mkdir(parents=True)
                pair.files(folders["files"])
                pair.handed_in(folders[pair.label])
                print(f"\n== {name}: -q {questions} ==", flush=True)
                print("   files: " + ", ".join(sorted(p.name for p in folders["files"].iterdir()))
                      + f"; {pair.label}: "
                      + ", ".join(f"{p.name} ({p.stat().st_size:,} bytes)"
                                  for p in sorted(folders[pair.label].iterdir())))
                seconds: dict[str, list[float]] = {side: [] for side in folders}
                before: dict[str, list[float]] = {side: [] for side in folders}
                first: dict[str, Grading] = {}
                for repeat in range(args.repeat):
                    order = list(folders) if repeat % 2 == 0 else list(folders)[::-1]
                    for side in order:
                        grading = grade(folders[side], None if args.recognise else pair.course,
                                        questions, temporary / f"{name}-{side}.json")
                        seconds[side].append(grading.seconds)
                        first.setdefault(side, grading)
                        rest = outside(grading)
                        if rest is not None:
                            before[side].append(rest)
                        print(f"   run {repeat + 1}, {side:<11}: {grading.seconds:6.1f} s "
                              f"({'?' if rest is None else f'{rest:.2f}'} s outside the "
                              f"questions), {total(grading)}", flush=True)
                        if grading.results is None:
                            failed = True
                            print("   " + (grading.stdout + grading.stderr)[-2000:])
                files_points, handed_points = (points(first[side]) for side in folders)
                if files_points is None or files_points != handed_points:
                    failed = True
                    print(f"\n   !!! MISMATCH: {name}: the {pair.label} earned other points "
                          "than the files !!!")
                    for test in sorted(set(files_points or {}) | set(handed_points or {})):
                        a = (files_points or {}).get(test)
                        b = (handed_points or {}).get(test)
                        if a != b:
                            print(f"   !!! {test}: files {a}, {pair.label} {b}")
                else:
                    print(f"   points equal: {total(first['files'])} from both, "
                          f"{len(files_points)} check{'' if len(files_points) == 1 else 's'}")
                median = {side: statistics.median(values) for side, values in seconds.items()}
                difference = median[pair.label] - median["files"]
                print(f"   median: files {median['files']:.1f} s, {pair.label} "
                      f"{median[pair.label]:.1f} s ({difference:+.1f} s, "
                      f"{difference / median['files']:+.0%})")
                if all(before.values()):
                    rest = {side: statistics.median(values) for side, values in before.items()}
                    print(f"   median outside the questions: files {rest['files']:.2f} s, "
                          f"{pair.label} {rest[pair.label]:.2f} s "
                          f"({rest[pair.label] - rest['files']:+.2f} s)")
                print(f"   first {HEAD_LINES} lines of the {pair.label}'s output:")
                for line in first[pair.label].stdout.splitlines()[:HEAD_LINES]:
                    print("   | " + line)
    finally:
        if busy:
            busy.kill()
            busy.wait()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
