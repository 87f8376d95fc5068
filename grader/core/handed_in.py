"""What was handed in, turned into the modules the questions import.

A submission may hold notebooks (``.ipynb``) and scripts beside, or instead of, the
files an assignment expects. This module reads them, keeps what *defines* things and
leaves out the top-level work (training, plots, prints, magics), and writes the text
of each expected module with a map from each of its lines back to the notebook cell
or script line it came from. It never runs student code and never changes a file.

    source = read_source(path)                       # Source: its code cells
    extraction = extract(source)                     # Extraction: kept / left out
    module = assemble("networks.py", names, [extraction, ...])
    module.text, module.provenance(), module.relocate(traceback_text, "networks.py")

Rules (the README states them to students):

* Cells are numbered as Jupyter counts them: code cells only, from 1. A script is one
  cell with number ``None``; its lines are the script's.
* Kept, in cell order: imports (not ``google.colab``), ``def``/``class`` statements,
  and top-level assignments (``=``, annotated with a value, and augmented ``+=``...,
  which run in order, as the notebook would) that a kept definition reads, directly
  or through another kept assignment, provided they call no function or class the
  submission defines and read nothing that left-out code made (``model = train(...)``
  is work: it is left out). An ``if``/``try`` made only of imports and such
  assignments (``if torch.cuda.is_available(): device = ...``) counts as one.
* Left out: expression statements (calls, displays), loops, ``with`` blocks,
  ``if __name__ == "__main__":`` blocks, assignments nothing kept reads, any other
  statement, IPython magics (``%...`` lines; a cell starting with ``%%`` entirely),
  shell escapes (``!...``, ``x = !...``), ``google.colab`` imports and the calls on
  what they imported (``drive.mount(...)``).
* A name defined in several places: an expected file wins over everything; then the
  sources in the order given (``order_sources``: sorted by path); within one notebook
  the later cell wins, as running it top to bottom would. The generated module runs
  the chosen sources one after another with the winner last, so every name ends bound
  to the winner's definition.
"""

from __future__ import annotations

import ast
import io
import json
import re
import symtable
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePath

LEFT_OUT_KINDS = ("call", "loop", "with", "main_guard", "magic", "shell", "colab",
                  "assignment", "expression", "other")
_MAGIC = re.compile(r"^\s*(%|!|[A-Za-z_][\w., ]*=\s*[%!])")
_DEFINED = re.compile(r"^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)
_TRACEBACK_FILE = re.compile(r'File "([^"]+)", line (\d+)')
_MESSAGE_LENGTH = 300
_KIND_WORDS = {"call": ("call", "calls"), "loop": ("loop", "loops"),
               "with": ("with-block", "with-blocks"),
               "main_guard": ('`if __name__ == "__main__":` block',
                              '`if __name__ == "__main__":` blocks'),
               "magic": ("magic", "magics"), "shell": ("shell escape", "shell escapes"),
               "colab": ("Colab line", "Colab lines"),
               "assignment": ("assignment nothing kept reads",
                              "assignments nothing kept reads"),
               "expression": ("expression", "expressions"),
               "other": ("other statement", "other statements")}


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
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableSource(shown, f"is not valid JSON (line {error.lineno}, column "
                               f"{error.colno}: {error.msg}), so it is not a notebook "
                               "Jupyter saved; download it again (File > Download "
                               ".ipynb)") from None
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


# ---------------------------------------------------------------- extraction

@dataclass(frozen=True)
class LeftOut:
    """A left-out top-level statement or line: its kind (``LEFT_OUT_KINDS``), cell,
    line in the cell and first line of text."""
    kind: str
    cell: int | None
    line: int
    text: str


@dataclass(frozen=True)
class SyntaxProblem:
    """A cell that does not parse: where, Python's message, and the names its
    ``def``/``class`` lines would have defined."""
    cell: int | None
    line: int
    message: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class MissingGlobal:
    """A kept definition (``used_by``) reading ``name``, which only left-out code
    defined (at ``cell``, ``line``). ``message`` is ready for the student."""
    name: str
    used_by: str
    cell: int | None
    line: int
    message: str


@dataclass(frozen=True)
class Kept:
    """A kept statement: the names it binds, what it reads at module level, its cell,
    first line, and its lines of text; for an import, the top-level modules it loads
    (``import torch.nn as nn`` loads ``torch`` and binds ``nn``)."""
    binds: frozenset[str]
    reads: frozenset[str]
    cell: int | None
    line: int
    lines: tuple[str, ...]
    is_future: bool = False
    loads: frozenset[str] = frozenset()


@dataclass(eq=False)
class Extraction:
    """What ``extract`` found in one source."""
    source: Source
    kept: list[Kept] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    syntax_errors: list[SyntaxProblem] = field(default_factory=list)
    missing_globals: list[MissingGlobal] = field(default_factory=list)

    def defines(self) -> dict[str, Kept]:
        """Each name the kept code binds -> its last (winning) binding statement."""
        found = {}
        for statement in self.kept:
            for name in statement.binds:
                found[name] = statement
        return found

    def counts(self) -> dict[str, int]:
        """How many of each kind were left out, in ``LEFT_OUT_KINDS`` order (kinds with
        none omitted)."""
        kinds = [item.kind for item in self.left_out]
        return {kind: kinds.count(kind) for kind in LEFT_OUT_KINDS if kind in kinds}

    def summary(self) -> str:
        """'left out: 3 calls, 1 loop, 2 magics' (empty when nothing was)."""
        parts = [f"{count} {_KIND_WORDS[kind][count > 1]}"
                 for kind, count in self.counts().items()]
        return f"{self.source.path}: left out {', '.join(parts)}" if parts else ""

    def syntax_messages(self) -> list[str]:
        """One message per cell that does not parse, naming its cell and line."""
        messages = []
        for problem in self.syntax_errors:
            would = f" (it would have defined {', '.join(problem.names)})" \
                if problem.names else ""
            where = self.source.where(problem.cell, problem.line)
            if problem.cell is None:
                messages.append(f"{where}: syntax error ({problem.message}); nothing in "
                                f"this script can be used{would}. Run it with python to "
                                "see the error, fix it and save.")
            else:
                messages.append(f"{where}: syntax error ({problem.message}); this cell is "
                                f"skipped{would} and the others are used. Run the cell to "
                                "see the error, fix it and save.")
        return messages

    def as_dict(self) -> dict:
        """JSON-ready: counts and the full lists."""
        return {"source": self.source.path, "left_out_counts": self.counts(),
                "left_out": [vars(item) for item in self.left_out],
                "syntax_errors": [{**vars(item), "names": list(item.names)}
                                  for item in self.syntax_errors],
                "missing_globals": [vars(item) for item in self.missing_globals]}


def _strip_magics(text: str) -> tuple[str, list[tuple[str, int, str]]]:
    """Replaces magic and shell lines by ``pass`` at their indentation (so blocks and
    line numbers stay). Returns the new text and (kind, line, text) per removed line.
    Only called on cells that do not parse as they are."""
    lines, removed, continued = text.split("\n"), [], False
    if text.lstrip().startswith("%%"):
        first = next(i for i, line in enumerate(lines) if line.strip())
        return "\n" * (len(lines) - 1), [("magic", first + 1, lines[first].strip())]
    for index, line in enumerate(lines):
        if continued or _MAGIC.match(line):
            if not continued:
                bang = line.lstrip().startswith("!") or re.match(r"^\s*[\w., ]+=\s*!", line)
                removed.append(("shell" if bang else "magic", index + 1, line.strip()))
            indent = line[:len(line) - len(line.lstrip())]
            lines[index] = indent + "pass" if not continued else ""
            continued = line.rstrip().endswith("\\")
    return "\n".join(lines), removed


def _global_reads(node: ast.AST) -> frozenset[str]:
    """Module-level names a statement reads when it runs or its functions are called
    (local variables of its functions are not counted)."""
    try:
        table = symtable.symtable(ast.unparse(node), "<statement>", "exec")
    except SyntaxError:
        return frozenset()
    names, todo = set(), [table]
    while todo:
        scope = todo.pop()
        for symbol in scope.get_symbols():
            at_top = scope is table and symbol.is_referenced()
            if at_top or (symbol.is_referenced() and symbol.is_global()):
                names.add(symbol.get_name())
        todo.extend(scope.get_children())
    return frozenset(names)


def _binds(node: ast.AST) -> frozenset[str]:
    names = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return frozenset({node.name})
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return frozenset((alias.asname or alias.name).split(".")[0] for alias in node.names)
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            names |= _binds(child)
    return frozenset(names)


def _loads(node: ast.AST) -> frozenset[str]:
    """The top-level packages whose submodules a statement's ``import a.b`` (or
    ``import a.b as c``) loads: code reading ``a.b`` may rely on it."""
    return frozenset(alias.name.split(".")[0] for child in ast.walk(node)
                     if isinstance(child, ast.Import)
                     for alias in child.names if "." in alias.name)


def _is_main_guard(node: ast.AST) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    parts = [node.test.left, *node.test.comparators]
    return any(isinstance(p, ast.Name) and p.id == "__name__" for p in parts) and \
        any(isinstance(p, ast.Constant) and p.value == "__main__" for p in parts)


def _is_colab_import(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "google" and \
            (node.module == "google" and any(a.name == "colab" for a in node.names)
             or (node.module or "").startswith("google.colab"))
    if isinstance(node, ast.Import):
        return any(alias.name.startswith("google.colab") for alias in node.names)
    return False


def _is_assignment_like(node: ast.AST) -> bool:
    """An assignment to plain names, or an if/try made only of such and imports."""
    if isinstance(node, ast.Assign):
        return all(isinstance(t, (ast.Name, ast.Tuple, ast.List)) and
                   all(isinstance(n, (ast.Name, ast.Tuple, ast.List, ast.Starred, ast.Load,
                                      ast.Store)) for n in ast.walk(t))
                   for t in node.targets)
    if isinstance(node, ast.AnnAssign):
        return node.value is not None and isinstance(node.target, ast.Name)
    if isinstance(node, ast.AugAssign):
        return isinstance(node.target, ast.Name)
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass)):
        return not _is_colab_import(node)
    if isinstance(node, ast.If) and not _is_main_guard(node):
        return all(_is_assignment_like(n) for n in node.body + node.orelse)
    if isinstance(node, ast.Try):
        body = node.body + node.orelse + node.finalbody + \
            [n for handler in node.handlers for n in handler.body]
        return all(_is_assignment_like(n) for n in body)
    return False


def _called_roots(node: ast.AST) -> set[str]:
    roots = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            func = child.func
            while isinstance(func, (ast.Attribute, ast.Subscript, ast.Call)):
                func = func.value if not isinstance(func, ast.Call) else func.func
            if isinstance(func, ast.Name):
                roots.add(func.id)
    return roots


def _classify(node: ast.AST, colab_names: set[str]) -> str:
    """The kind of a statement that is not a definition or an assignment candidate."""
    if isinstance(node, ast.Expr):
        if _called_roots(node) & colab_names:
            return "colab"
        return "call" if any(isinstance(n, ast.Call) for n in ast.walk(node)) else "expression"
    if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
        return "loop"
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return "with"
    if _is_main_guard(node):
        return "main_guard"
    return "assignment" if isinstance(node, (ast.Assign, ast.AnnAssign,
                                             ast.AugAssign)) else "other"


def _statement_lines(node: ast.AST, text: str, lines: list[str]) -> tuple[int, tuple[str, ...]]:
    """The first line and the lines of one top-level statement. A simple statement is
    cut at its columns (``import os; train()`` keeps only ``import os``)."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If,
                         ast.Try, ast.For, ast.While, ast.With)):
        return first, tuple(lines[first - 1:node.end_lineno])
    return first, tuple(ast.get_source_segment(text, node).split("\n"))


def extract(source: Source) -> Extraction:
    """Splits each cell's top-level statements into kept definitions and left-out
    work, in cell order (rules in the module's docstring).

    Returns an ``Extraction``: ``kept`` statements, the ``left_out`` list (kind, cell,
    line, text), the cells with ``syntax_errors`` (the others are still used), and
    ``missing_globals``: names kept definitions read that only left-out code binds.
    """
    result = Extraction(source)
    parsed = []    # (cell, node, text, lines)
    for cell in source.cells:
        text = cell.text
        try:
            tree = ast.parse(text)
        except SyntaxError:
            text, removed = _strip_magics(cell.text)
            result.left_out += [LeftOut(kind, cell.number, line, shown)
                                for kind, line, shown in removed]
            try:
                tree = ast.parse(text)
            except SyntaxError as error:
                result.syntax_errors.append(SyntaxProblem(
                    cell.number, error.lineno or 1, error.msg,
                    tuple(_DEFINED.findall(cell.text))))
                continue
        lines = text.split("\n")
        parsed += [(cell.number, node, text, lines) for node in tree.body]

    colab_names = set()
    for _, node, _, _ in parsed:
        if _is_colab_import(node):
            colab_names |= _binds(node)
    defined_code = {n.name for _, n, _, _ in parsed
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}

    # Each statement: 'keep' (definitions, imports), 'candidate' or a left-out kind.
    decision, reads = {}, {}
    for index, (_, node, _, _) in enumerate(parsed):
        reads[index] = _global_reads(node)
        if _is_colab_import(node):
            decision[index] = "colab"
        elif isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef,
                               ast.AsyncFunctionDef, ast.ClassDef)):
            decision[index] = "keep"
        elif isinstance(node, ast.Pass) or isinstance(node, ast.Expr) and \
                isinstance(node.value, ast.Constant):
            decision[index] = "silent"     # pass, docstrings: nothing to run or report
        elif _is_assignment_like(node):
            decision[index] = "work" if _called_roots(node) & defined_code else "candidate"
        else:
            decision[index] = _classify(node, colab_names)
    kept_bound = set().union(*[_binds(parsed[i][1]) for i, d in decision.items()
                               if d == "keep"] or [set()])
    # Names only work binds taint the candidates that read them, transitively.
    changed = True
    while changed:
        tainted = set().union(*[_binds(parsed[i][1]) for i, d in decision.items()
                                if d not in ("keep", "candidate", "silent")] or [set()])
        tainted -= kept_bound
        changed = False
        for index, d in decision.items():
            if d == "candidate" and reads[index] & tainted:
                decision[index], changed = "work", True
    # Keep the candidates kept code reads, transitively.
    needed = set().union(*[reads[i] for i, d in decision.items() if d == "keep"] or [set()])
    changed = True
    while changed:
        changed = False
        for index, d in decision.items():
            if d == "candidate" and _binds(parsed[index][1]) & needed:
                decision[index], changed = "keep", True
                needed |= reads[index]
    for index, d in sorted(decision.items()):
        cell, node, text, lines = parsed[index]
        first, segment = _statement_lines(node, text, lines)
        if d == "keep":
            future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
            result.kept.append(Kept(_binds(node), reads[index], cell, first, segment,
                                    future, _loads(node)))
        elif d != "silent":
            kind = {"candidate": "assignment", "work": "call"}.get(d, d)
            result.left_out.append(LeftOut(kind, cell, first, segment[0].strip()))
    result.left_out.sort(key=lambda item: (item.cell or 0, item.line))
    result.missing_globals = _missing_globals(result, parsed, decision)
    return result


def _missing_globals(result: Extraction, parsed, decision) -> list[MissingGlobal]:
    kept_bound = set().union(*[k.binds for k in result.kept] or [set()])
    made_by_work = {}
    for index, d in sorted(decision.items()):
        if d not in ("keep", "silent"):
            cell, node, _, _ = parsed[index]
            for name in _binds(node) - kept_bound:
                made_by_work[name] = (cell, node.lineno)
    found = []
    for statement in result.kept:
        if not statement.binds or not (statement.reads & set(made_by_work)):
            continue
        used_by = sorted(statement.binds)[0]
        for name in sorted(statement.reads & set(made_by_work)):
            cell, line = made_by_work[name]
            where = result.source.where(cell, line)
            found.append(MissingGlobal(name, used_by, cell, line, (
                f"{used_by} (in {result.source.where(statement.cell, statement.line)}) "
                f"uses the global name {name!r}, which only top-level work defines "
                f"({where}); the autograder does not run top-level work, so {name!r} "
                f"does not exist when it calls {used_by}. Move that line into a function "
                f"(and pass {name!r} in as an argument) or into a cell of definitions.")))
    return found


# ---------------------------------------------------------------- assembly

@dataclass(frozen=True)
class Origin:
    """Where one generated line came from."""
    path: str
    cell: int | None
    line: int


@dataclass
class Module:
    """An expected module made from what was handed in.

    ``text`` is its code; ``line_map[i]`` the ``Origin`` of line ``i + 1`` (None for
    lines the assembly added); ``chosen`` maps each looked-up name to the ``Origin``
    of its winning definition; ``missing`` the names no source defines;
    ``broken`` the missing names a cell with a syntax error would have defined
    (-> the source's path and the problem);
    ``missing_globals`` those of the sources used that nothing in the module defines;
    ``foreign_imports`` the imports it holds only for code that is not its own, as
    (generated line, imported name): those in definitions another expected file
    provides and in what only they need (they count against that file's import rule,
    as ``from models import AttentionBlock`` would), and the names of a shared import
    line (``from torch import nn, optim``) that its own code does not read.
    """
    name: str
    text: str
    line_map: list[Origin | None]
    chosen: dict[str, Origin]
    missing: list[str]
    broken: dict[str, tuple[str, SyntaxProblem]]
    missing_globals: list[MissingGlobal]
    sources: dict[str, Source]
    foreign_imports: frozenset[tuple[int, str]] = frozenset()

    def where(self, line: int) -> str | None:
        """'NOTEBOOK, cell C, line L' / 'SCRIPT, line L' for a generated line (1-based)."""
        origin = self.line_map[line - 1] if 0 < line <= len(self.line_map) else None
        if origin is None:
            return None
        return self.sources[origin.path].where(origin.cell, origin.line)

    def relocate(self, text: str, generated_path: str | None = None) -> str:
        """Rewrites ``File "<generated_path>", line N`` (any path ending in the module's
        name when ``generated_path`` is None) to ``File "NOTEBOOK", cell C, line L``."""
        def replace(match: re.Match) -> str:
            path, line = match.group(1), int(match.group(2))
            ours = path == generated_path if generated_path else \
                PurePath(path).name == self.name
            place = self.where(line) if ours else None
            if place is None:
                return match.group(0)
            origin = self.line_map[line - 1]
            return f'File "{origin.path}", ' + \
                self.sources[origin.path].place(origin.cell, origin.line)
        return _TRACEBACK_FILE.sub(replace, text)

    def missing_message(self, looked_up: str) -> str | None:
        """Why a looked-up name is missing, when a cell with a syntax error would have
        defined it (None otherwise)."""
        if looked_up not in self.broken:
            return None
        path, problem = self.broken[looked_up]
        return (f"{looked_up} is not defined: the cell that would define it "
                f"({self.sources[path].where(problem.cell, problem.line)}) has a syntax "
                f"error ({problem.message}). Fix that cell and save.")

    def provenance(self) -> str:
        """'networks.py <- yue.yisong_set4_prob2.ipynb (cells 3, 5, 9)'."""
        by_path: dict[str, set] = {}
        for origin in self.chosen.values():
            by_path.setdefault(origin.path, set())
            if origin.cell is not None:
                by_path[origin.path].add(origin.cell)
        parts = []
        for path, cells in by_path.items():
            listed = ", ".join(str(c) for c in sorted(cells))
            parts.append(f"{path} (cell{'s' if len(cells) > 1 else ''} {listed})"
                         if cells else path)
        return f"{self.name} <- {', '.join(parts) if parts else '(nothing found)'}"


def assemble(name: str, names, extractions: list[Extraction],
             expected: Source | None = None, stubs=(), elsewhere=()) -> Module:
    """Writes module ``name`` (e.g. 'networks.py') for the looked-up ``names``.

    ``expected`` is the expected file itself when handed in: it is used whole, as
    importing it would. ``extractions`` are the other sources in priority order
    (``order_sources``). Each name comes from the expected file if it defines it,
    else from the first source that does (its last binding). The module runs the
    expected file (whole), then the kept code of the sources that won a name, lowest
    priority first, so that later bindings are the winners', less the statements that
    bind only names the expected file binds. Of the sources' kept code, only what the
    chosen definitions (and the expected file) need is written: the statements that
    bind a name they read, transitively (``_needed``), so that a script's imports for
    another file's code do not count against this file's import rule. ``stubs``: names
    the expected file still defines as the skeleton's stub; a source that defines one
    wins it. ``elsewhere``: the names other expected files provide; what the module
    needs only for them is told apart (``Module.foreign_imports``). Returns a
    ``Module``.
    """
    names = list(dict.fromkeys(names))
    chosen: dict[str, Origin] = {}
    expected_defines, expected_reads = {}, frozenset()
    if expected is not None:
        try:
            tree = ast.parse(expected.cells[0].text)
            expected_defines = {n: node.lineno for node in tree.body for n in _binds(node)}
            expected_reads = _global_reads(tree)
        except SyntaxError:
            expected_defines = {}
    used, defines = [], [extraction.defines() for extraction in extractions]
    # A stub the expected file still holds yields to a source that defines the name.
    replaced = {n for n in stubs if n in expected_defines and any(n in d for d in defines)}
    expected_defines = {n: line for n, line in expected_defines.items() if n not in replaced}
    for looked_up in names:
        if looked_up in expected_defines:
            chosen[looked_up] = Origin(expected.path, None, expected_defines[looked_up])
    for looked_up in names:
        if looked_up in chosen:
            continue
        for extraction, defined in zip(extractions, defines):
            statement = defined.get(looked_up)
            if statement is not None:
                chosen[looked_up] = Origin(extraction.source.path, statement.cell,
                                           statement.line)
                if extraction not in used:
                    used.append(extraction)
                break
    used.sort(key=extractions.index, reverse=True)   # the winner last
    candidates = [k for e in used for k in e.kept
                  if not (k.binds and k.binds <= set(expected_defines))]
    written, _ = _needed(candidates, set(names) | expected_reads)
    own, own_reads = _needed(candidates, set(names) | expected_reads,
                             set(elsewhere) - set(names))
    foreign: set[tuple[int, str]] = set()

    text_lines: list[str] = [f"# {name}: made by the autograder from what was handed in"]
    line_map: list[Origin | None] = [None]

    def add(lines, origin_of):
        text_lines.extend(lines)
        line_map.extend(origin_of(i) for i in range(len(lines)))

    # __future__ imports must open a module: theirs go first, blanked where they were.
    body = expected.cells[0].text.split("\n") if expected is not None else []
    for first, last in _future_imports(expected.cells[0].text if expected else ""):
        add(body[first - 1:last], lambda i, first=first: Origin(expected.path, None, first + i))
        body[first - 1:last] = [""] * (last - first + 1)
    for extraction in used:
        for statement in (k for k in extraction.kept if k.is_future):
            add(statement.lines, lambda i, e=extraction, k=statement:
                Origin(e.source.path, k.cell, k.line + i))
    if expected is not None:
        add([""], lambda i: None)
        add(body, lambda i: Origin(expected.path, None, i + 1))
    for extraction in used:
        follows = None
        for statement in (k for k in extraction.kept if not k.is_future):
            if id(statement) not in written:
                continue     # the expected file's own binding wins, or nothing needs it
            if follows != (statement.cell, statement.line):
                add([""], lambda i: None)
            follows = (statement.cell, statement.line + len(statement.lines))
            foreign |= {(len(text_lines) + line, imported) for line, imported in
                        _foreign_imports(statement, id(statement) in own, own_reads)}
            add(statement.lines, lambda i, e=extraction, k=statement:
                Origin(e.source.path, k.cell, k.line + i))
    bound = set(expected_defines).union(*defines)
    missing = [n for n in names if n not in chosen]
    broken = {}
    for looked_up in missing:
        for extraction in extractions:
            problem = next((p for p in extraction.syntax_errors if looked_up in p.names), None)
            if problem:
                broken[looked_up] = (extraction.source.path, problem)
                break
    written_names = set().union(*[k.binds for e in used for k in e.kept
                                  if id(k) in written] or [set()])
    missing_globals = [m for e in used for m in e.missing_globals
                       if m.name not in bound and m.used_by in written_names]
    sources = {e.source.path: e.source for e in extractions}
    if expected is not None:
        sources[expected.path] = expected
    return Module(name, "\n".join(text_lines) + "\n", line_map, chosen, missing, broken,
                  missing_globals, sources, frozenset(foreign))


def _needed(statements: list[Kept], roots: set[str], stop=frozenset()):
    """The ids of the ``statements`` a module needs (and the names they read): those
    binding a name in ``roots``
    or one a needed statement reads, transitively (a constant a helper reads, the
    helper the chosen class calls); ``import a.b as c`` also when a needed statement
    reads ``a`` (code reading ``a.b`` may rely on it), and
    ``from x import *`` always (what it binds is unknown). A statement binding only
    names in ``stop`` is not followed."""
    needed, written = set(roots), set()
    changed = True
    while changed:
        changed = False
        for statement in statements:
            if id(statement) in written or statement.binds and statement.binds <= stop:
                continue
            if statement.binds & needed or statement.loads & needed or \
                    "*" in statement.binds:
                written.add(id(statement))
                needed |= statement.reads
                changed = True
    return written, needed


def _foreign_imports(statement: Kept, own: bool, reads: set[str]):
    """(line in the statement, imported name) of each import in a written statement
    that the module's own code does not need: all of them when the statement is not
    its own; else the names of its top-level imports that nothing own reads (an
    ``import torch.nn as nn`` kept because own code reads ``torch`` among them)."""
    try:
        tree = ast.parse("\n".join(statement.lines))
    except SyntaxError:
        return
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = (alias.asname or alias.name).split(".")[0]
                if not own or bound != "*" and bound not in reads:
                    yield node.lineno, alias.name
        elif not own or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                               ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))


def _top_level_names(text: str):
    """(name, line) for every name a file's top level binds, last binding last."""
    for node in ast.parse(text).body:
        for bound in _binds(node):
            yield bound, node.lineno


def _future_imports(text: str) -> list[tuple[int, int]]:
    """(first, last) lines of each ``from __future__ import`` in a file's top level."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    return [(node.lineno, node.end_lineno) for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module == "__future__"]


# ---------------------------------------------------------------- a submission

SOURCE_SUFFIXES = (".ipynb", ".py")


def skeleton_names(text: str) -> list[str]:
    """The top-level ``def``/``class`` names of a skeleton: what a file must provide."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    return [node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def stub_names(text: str) -> set[str] | None:
    """Names a handed-in expected file still defines as the skeleton's stub (a class
    by its ``forward``; ``source.is_stub_node``); None when the file does not parse
    (it is then imported as it is, and its syntax error reported as usual)."""
    from grader.core.source import is_stub_node
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            forward = next((n for n in node.body if isinstance(n, ast.FunctionDef)
                            and n.name == "forward"), None)
            if forward is not None and is_stub_node(forward):
                found.add(node.name)
        elif is_stub_node(node):
            found.add(node.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.discard(node.name)      # a later, filled definition wins
    return found


@dataclass
class HandedIn:
    """The notebooks and scripts of one submission and the expected modules made
    from them (``read_submission``). Empty when the folder holds none, or when every
    expected file is there and filled in: then nothing changes."""
    modules: dict[str, Module] = field(default_factory=dict)
    extractions: list[Extraction] = field(default_factory=list)
    unreadable: list[UnreadableSource] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)

    def notes(self, verbose: bool = False) -> list[str]:
        """What the start of the output says, once: where each module's names came
        from, what was left out (counts per kind; with ``verbose``, each statement
        with its cell and line), unreadable and empty files."""
        notes = [f"{problem.path} is ignored: it {problem.reason}"
                 for problem in self.unreadable]
        notes += [f"{path} is ignored: it holds no code (an empty notebook counts as "
                  "nothing handed in)" for path in self.empty]
        if not self.modules:
            return notes
        notes += [module.provenance() for module in self.modules.values()]
        for extraction in self._used():
            if not extraction.summary():
                continue
            if verbose:      # one note: its lines follow it, indented
                notes.append(extraction.summary() + " (not run by the autograder):" + "".join(
                    f"\n    {extraction.source.where(item.cell, item.line)}: {item.text}"
                    for item in extraction.left_out))
            else:
                notes.append(extraction.summary() + " (not run by the autograder; "
                             "--verbose lists each)")
        return notes

    def warnings(self) -> list[str]:
        """Syntax-error cells and globals only left-out work defines, of the
        sources used."""
        found = []
        for extraction in self._used():
            found += extraction.syntax_messages()
        seen = set()
        for module in self.modules.values():
            for missing in module.missing_globals:
                if missing.message not in seen:
                    seen.add(missing.message)
                    found.append(missing.message)
        return found

    def _used(self) -> list[Extraction]:
        paths = {origin.path for module in self.modules.values()
                 for origin in module.chosen.values()}
        return [e for e in self.extractions if e.source.path in paths]

    def relocate(self, text: str) -> str:
        """``text`` with every generated line named by its notebook cell or script
        line: ``File "networks.py", line N`` and ``networks.py:N``."""
        if not self.modules or not text:
            return text
        for module in self.modules.values():
            text = module.relocate(text)
            text = re.sub(rf"(?<![\w./\\-]){re.escape(module.name)}:(\d+)",
                          lambda m, module=module: module.where(int(m.group(1)))
                          or m.group(0), text)
        return text

    def missing_message(self, module_name: str, name: str) -> str | None:
        """Why ``name`` is missing from a generated module ``module_name``."""
        module = self.modules.get(module_name)
        if module is None or name not in module.missing:
            return None
        why = module.missing_message(name)
        if why:
            return why
        looked = ", ".join(e.source.path for e in self.extractions)
        return (f"{name} is not defined: {module_name} was made from what was handed in "
                f"({looked}), and no definition of {name} was found there. Define it in a "
                f"function or class cell (or hand in {module_name}).")

    def as_dict(self) -> dict:
        """JSON-ready: provenance per module, the left-out lists, unreadable files."""
        return {"notes": self.notes(), "warnings": self.warnings(),
                "modules": {name: {"provenance": module.provenance(),
                                   "names": {n: vars(o) for n, o in module.chosen.items()},
                                   "missing": list(module.missing)}
                            for name, module in self.modules.items()},
                "sources": [e.as_dict() for e in self.extractions],
                "unreadable": [{"path": p.path, "reason": p.reason} for p in self.unreadable],
                "empty": list(self.empty)}


def read_submission(folder: Path, expected: dict, ignore=()) -> HandedIn:
    """Reads the notebooks and scripts at the top of ``folder`` (``.ipynb``/``.py``
    files but the ``expected`` ones and those in ``ignore``) and makes the expected
    modules they must stand in for.

    ``expected`` maps each expected file name to the names it must provide (the
    skeleton's, see ``skeleton_names``). A module is made for an expected file that
    is missing, or that still holds a skeleton stub for a name (``stub_names``),
    when a source defines one of those names; it then holds the expected file (if
    any) and the sources' kept code (``assemble``). Never runs anything.
    """
    folder = Path(folder)
    paths = _source_paths(folder, set(expected) | set(ignore))
    result = HandedIn()
    if not paths:
        return result
    for path in order_sources(paths):
        try:
            source = read_source(path, path.name)
        except UnreadableSource as problem:
            result.unreadable.append(problem)
            continue
        except OSError as error:
            result.unreadable.append(UnreadableSource(path.name, f"could not be read "
                                                      f"({error.strerror or error})"))
            continue
        if source.is_empty:
            result.empty.append(source.path)
            continue
        result.extractions.append(extract(source))
    for name, names in expected.items():
        names = list(dict.fromkeys(names))
        path = folder / name
        file_source, stubs = None, set(names)
        if path.is_file():
            try:
                file_source = read_script(path, name)
            except UnreadableSource:
                continue
            stubs = stub_names(file_source.cells[0].text)
            if stubs is None:
                continue
            defined = {n for n, _ in _top_level_names(file_source.cells[0].text)}
            stubs |= {n for n in names if n not in defined}
        wanted = [n for n in names if n in stubs]
        if not any(n in e.defines() for e in result.extractions for n in wanted):
            continue
        elsewhere = {n for other, more in expected.items() if other != name for n in more}
        result.modules[name] = assemble(name, names, result.extractions, file_source,
                                        stubs=stubs, elsewhere=elsewhere)
    return result


def _source_paths(folder: Path, skipped: set) -> list[Path]:
    """The notebooks and scripts at the top of ``folder``, but those ``skipped``."""
    if not folder.is_dir():
        return []
    return [path for path in folder.iterdir()
            if path.suffix.lower() in SOURCE_SUFFIXES and not path.name.startswith(".")
            and path.name not in skipped and path.is_file() and not path.is_symlink()]


def defined_names(folder: Path, ignore=()) -> dict[str, set[str]]:
    """Each readable, non-empty notebook or script at the top of ``folder`` (but
    those in ``ignore``) -> the names its kept definitions bind (for recognising the
    assignment; reads only, unreadable files are left to the judge's notes)."""
    found = {}
    for path in order_sources(_source_paths(Path(folder), set(ignore))):
        try:
            source = read_source(path, path.name)
        except (UnreadableSource, OSError):
            continue
        if not source.is_empty:
            found[source.path] = set(extract(source).defines())
    return found
