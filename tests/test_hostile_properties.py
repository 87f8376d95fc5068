"""Property-based tests of reading a submission (step 17b): notebooks, scripts and
zips made from random structures and bytes. Reading one (bulk's intake, the
autograder's recognition of the course version, the judge's reading of notebooks and
scripts) never raises anything but the intake's own error type, and never takes long:
whatever the bytes, the outcome is that submission's status and message."""

from __future__ import annotations

import io
import json
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import assignments
from grader.core.handed_in import read_submission
from grader.instructor.common.submission import NO_FILES, OK, UNREADABLE, SubmissionsError
from grader.instructor.intake.find import discover
from helpers import REFERENCE

SECONDS = 20.0           # the bound on reading one generated submission, every step
STATUSES = {OK, NO_FILES, UNREADABLE}
EXPECTED = {"models.py": ["PerceptronModel", "RegressionModel"]}
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

# JSON of any shape, nested a little or, now and then, very deep.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)
cell_sources = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["def f(:\n", "import torch\nclass PerceptronModel:\n    pass\n",
                     "%matplotlib inline\n!pip install x\n", "x = (" * 300,
                     "BIG = " + "+".join(["1"] * 20_000), "\x00\x01", "def f():\n\treturn 1\n"
                     "        return 2\n", "'''never closed"]),
    st.lists(st.text(max_size=40), max_size=5))      # a source as a list of lines
cells = st.fixed_dictionaries({"cell_type": st.sampled_from(["code", "markdown", "raw", 7]),
                               "source": cell_sources},
                              optional={"metadata": json_values, "outputs": json_values,
                                        "execution_count": st.none() | st.integers()})
notebooks = st.one_of(
    st.builds(lambda cells, extra: {"cells": cells, "metadata": {}, "nbformat": 4,
                                    "nbformat_minor": 5, **extra},
              st.lists(cells, max_size=5), st.dictionaries(st.text(max_size=6), json_values,
                                                           max_size=2)),
    json_values)
notebook_bytes = st.one_of(
    notebooks.map(lambda value: json.dumps(value).encode("utf-8")),
    st.integers(100, 5000).map(lambda depth: ('{"cells": ' + "[" * depth + "]" * depth
                                              + "}").encode()),
    st.binary(max_size=300))
script_bytes = st.one_of(cell_sources.map(lambda source: (
    source if isinstance(source, str) else "\n".join(source)).encode("utf-8", "replace")),
    st.binary(max_size=300))
entry_names = st.one_of(
    st.sampled_from(["models.py", "train.py", "work.ipynb", "sub/models.py", "../up.py",
                     "/abs.py", "C:/win.py", "__MACOSX/._models.py", "a/b/c/d.py",
                     "inner.zip", "data.bin", "x" * 250 + ".py"]),
    st.text(min_size=1, max_size=30))


def read_everything(root: Path, work: Path) -> None:
    """Every reader a class download meets, in order; each must end within
    ``SECONDS`` and raise nothing but ``SubmissionsError``."""
    started = time.monotonic()
    try:
        _, submissions = discover(root, work)
    except SubmissionsError:
        return
    for submission in submissions:
        assert submission.status in STATUSES
        assert isinstance(submission.problem, str)
        submission.problem.encode("utf-8")                  # printable as it is
        if submission.status != OK:
            continue
        folder = work / "graded" / submission.id
        folder.mkdir(parents=True)
        for name, path in submission.files.items():
            shutil.copyfile(path, folder / name)
        assignments.recognise(folder)
        read_submission(folder, EXPECTED, skeletons={"models.py": ""})
    assert time.monotonic() - started < SECONDS


def fresh(tmp_path: Path) -> tuple[Path, Path]:
    folder = Path(tmp_path) / f"case{len(list(Path(tmp_path).iterdir()))}"
    (folder / "class").mkdir(parents=True)
    return folder / "class", folder / "work"


@PROPERTY
@given(files=st.lists(st.tuples(st.sampled_from(["work.ipynb", "Work.ipynb", "prob2.ipynb",
                                                  "helper.py", "models.py"]),
                                st.one_of(notebook_bytes, script_bytes)), min_size=1,
                      max_size=3))
def test_any_notebook_or_script_is_read_into_a_status(tmp_path, files):
    root, work = fresh(tmp_path)
    student = root / "student"
    student.mkdir()
    for name, content in files:
        (student / name).write_bytes(content)
    read_everything(root, work)


@PROPERTY
@pytest.mark.filterwarnings("ignore:Duplicate name")    # two entries of one name: hostile too
@given(entries=st.lists(st.tuples(entry_names, st.one_of(notebook_bytes, script_bytes)),
                        max_size=6),
       damage=st.one_of(st.none(), st.integers(0, 2000)))
def test_any_zip_is_read_into_a_status(tmp_path, entries, damage):
    root, work = fresh(tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.write(REFERENCE / "models.py", "models.py")
        for name, content in entries:
            zipped.writestr(name, content)
    data = bytearray(buffer.getvalue())
    if damage is not None and data:
        data[damage % len(data)] ^= 0xFF                    # one byte flipped anywhere
    (root / "student.zip").write_bytes(bytes(data))
    read_everything(root, work)
