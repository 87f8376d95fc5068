"""Assembly: the text of an expected module made from the kept code of notebooks and
scripts (``handed_in_extraction``), with a map from each of its lines back to the
notebook cell or script line it came from (``Module``).

* A name defined in several places: an expected file wins over everything; then the
  sources in the order given (``order_sources``: sorted by path); within one notebook
  the later cell wins, as running it top to bottom would. The generated module runs
  the chosen sources one after another with the winner last, so every name ends bound
  to the winner's definition.
* A generated module holds, of the sources' kept code, only what its chosen
  definitions need (transitively), so the import rule of a file applies to the code
  graded as that file.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import PurePath

from grader.core.handed_in_extraction import (Extraction, Kept, MissingGlobal,
                                              SyntaxProblem, bound_names, global_reads)
from grader.core.handed_in_reading import Source
from grader.core.parsing import parse_python

_TRACEBACK_FILE = re.compile(r'File "([^"]+)", line (\d+)')


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
            tree = parse_python(expected.cells[0].text)
            expected_defines = {n: node.lineno for node in tree.body for n in bound_names(node)}
            expected_reads = global_reads(tree)
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
        tree = parse_python("\n".join(statement.lines))
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
    for node in parse_python(text).body:
        for bound in bound_names(node):
            yield bound, node.lineno


def _future_imports(text: str) -> list[tuple[int, int]]:
    """(first, last) lines of each ``from __future__ import`` in a file's top level."""
    try:
        tree = parse_python(text)
    except SyntaxError:
        return []
    return [(node.lineno, node.end_lineno) for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module == "__future__"]
