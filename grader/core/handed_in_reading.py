"""Reading what was handed in: a notebook (``.ipynb``) or a script as its code cells
(``Source``), for ``handed_in_extraction.extract``. Never runs anything.

Cells are numbered as Jupyter counts them: code cells only, from 1 (with the saved
execution count, shown as ``In [N]``). A script is one cell with number ``None``; its
lines are the script's. A file that cannot be read raises ``UnreadableSource`` with a
ready-made reason (not UTF-8, not JSON, not a notebook, nbformat's validation message).
"""

from __future__ import annotations

import io
import json
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePath

from grader.core.parsing import TooDeep, load_json

_MESSAGE_LENGTH = 300


class UnreadableSource(Exception):
    """A handed-in file that cannot be read as a notebook or a script; ``reason`` is a
    ready-made message naming the file."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


@dataclass(frozen=True)
class Cell:
    """One code cell (``number`` 1-based among code cells; ``None`` for a script) with
    its saved ``execution_count`` (or None) and its source text."""
    number: int | None
    execution_count: int | None
    text: str


@dataclass(frozen=True)
class Source:
    """A read notebook or script: ``path`` as messages show it, ``kind`` ('notebook'
    or 'script') and its code ``cells`` in order."""
    path: str
    kind: str
    cells: tuple[Cell, ...]

    @property
    def is_empty(self) -> bool:
        """True when no cell holds any code (the caller treats it as a missing file)."""
        return not any(cell.text.strip() for cell in self.cells)

    def where(self, cell: int | None, line: int) -> str:
        """'NOTEBOOK, cell C, line L' ('cell C (In [N])' when saved run), 'SCRIPT, line L'."""
        return f"{self.path}, {self.place(cell, line)}"

    def place(self, cell: int | None, line: int) -> str:
        """'cell C, line L' ('cell C (In [N]), line L' when it was run), or 'line L'."""
        if self.kind == "script" or cell is None:
            return f"line {line}"
        count = self.cells[cell - 1].execution_count
        shown = f"cell {cell}" + (f" (In [{count}])" if count is not None else "")
        return f"{shown}, line {line}"


def _shorten(text: str) -> str:
    first = " ".join(str(text).strip().splitlines()[:1]) or "no details"
    return first if len(first) <= _MESSAGE_LENGTH else first[:_MESSAGE_LENGTH - 3] + "..."


def _nbformat(shown: str):
    try:
        import nbformat
    except ImportError:
        raise UnreadableSource(shown, "could not be read: reading a notebook needs the "
                               "nbformat package, which is not installed; run `pip "
                               "install nbformat` (or `pip install -e .` in the project "
                               "folder) and try again") from None
    return nbformat


def read_notebook(path: Path, shown_as: str | None = None) -> Source:
    """Reads a Jupyter/Colab notebook (nbformat 4; older ones are converted).

    Returns a ``Source`` of its code cells. Raises ``UnreadableSource`` for bytes that
    are not UTF-8, text that is not JSON, JSON that is not a notebook, or a notebook
    nbformat finds invalid (its message, shortened). A UTF-8 BOM is accepted. Saved
    outputs are dropped before validation: they are never used, and a notebook is not
    refused for them.
    """
    shown = shown_as or Path(path).name
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableSource(shown, f"is not UTF-8 text (byte 0x{raw[error.start]:02x} "
                               f"at position {error.start}); open it in Jupyter or Colab "
                               "and save it again") from None
    del raw
    try:
        data = load_json(text)
    except json.JSONDecodeError as error:
        raise UnreadableSource(shown, f"is not valid JSON (line {error.lineno}, column "
                               f"{error.colno}: {error.msg}), so it is not a notebook "
                               "Jupyter saved; download it again (File > Download "
                               ".ipynb)") from None
    except TooDeep as error:
        raise UnreadableSource(shown, f"cannot be read: {error}; download the notebook "
                               "again (File > Download .ipynb)") from None
    del text
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise UnreadableSource(shown, "is JSON but not a Jupyter notebook (it has no "
                               "'cells'); hand in the .ipynb file Jupyter or Colab saves")
    for cell in _raw_cells(data):
        if isinstance(cell, dict) and "outputs" in cell:
            cell["outputs"] = []
    nbformat = _nbformat(shown)
    try:
        notebook = nbformat.from_dict(data)
        if notebook.get("nbformat") != 4:
            notebook = nbformat.convert(notebook, 4)
        with warnings.catch_warnings():   # a missing cell id (Colab's 4.0 files) is fine
            warnings.simplefilter("ignore")
            nbformat.validate(notebook)
    except Exception as error:   # nbformat raises ValidationError, KeyError, ValueError...
        message = getattr(error, "message", None) or str(error)
        raise UnreadableSource(shown, f"is not a valid notebook (nbformat says: "
                               f"{_shorten(message)})") from None
    cells, number = [], 0
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        cells.append(Cell(number, cell.get("execution_count"), source))
    return Source(shown, "notebook", tuple(cells))


def _raw_cells(data: dict) -> list:
    cells = data.get("cells")
    if isinstance(cells, list):
        return cells
    return [cell for sheet in data.get("worksheets") or [] if isinstance(sheet, dict)
            for cell in sheet.get("cells") or []]


def read_script(path: Path, shown_as: str | None = None) -> Source:
    """Reads a Python script (its encoding as Python would: a BOM or a coding line,
    else UTF-8). Returns a ``Source`` with one cell numbered ``None``; raises
    ``UnreadableSource`` when the bytes do not decode."""
    shown = shown_as or Path(path).name
    raw = Path(path).read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as error:
        raise UnreadableSource(shown, f"is not UTF-8 text ({_shorten(error)}); save it "
                               "again as UTF-8") from None
    return Source(shown, "script", (Cell(None, None, text),))


def read_source(path: Path, shown_as: str | None = None) -> Source:
    """A notebook (by its ``.ipynb`` suffix) or a script; see ``read_notebook``."""
    if str(path).lower().endswith(".ipynb"):
        return read_notebook(path, shown_as)
    return read_script(path, shown_as)


def order_sources(paths) -> list:
    """The documented order between several notebooks/scripts: by path, as POSIX
    text, case-sensitively. Earlier wins a name both define."""
    return sorted(paths, key=lambda path: PurePath(path).as_posix())
