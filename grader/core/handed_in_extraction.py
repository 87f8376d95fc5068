"""What a notebook's or script's code keeps: its definitions, not its top-level work
(``extract``). Reads the cells' text with ``ast``; never runs anything.

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
"""

from __future__ import annotations

import ast
import re
import symtable
from dataclasses import dataclass, field

from grader.core.handed_in_reading import Source
from grader.core.parsing import parse_python

LEFT_OUT_KINDS = ("call", "loop", "with", "main_guard", "magic", "shell", "colab",
                  "assignment", "expression", "other")
_MAGIC = re.compile(r"^\s*(%|!|[A-Za-z_][\w., ]*=\s*[%!])")
_DEFINED = re.compile(r"^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)
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


def global_reads(node: ast.AST) -> frozenset[str]:
    """Module-level names a statement reads when it runs or its functions are called
    (local variables of its functions are not counted)."""
    try:
        table = symtable.symtable(ast.unparse(node), "<statement>", "exec")
    except (SyntaxError, RecursionError, MemoryError, ValueError):   # too deep to follow
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


def bound_names(node: ast.AST) -> frozenset[str]:
    """The module-level names a top-level statement binds (``'*'`` for a star import)."""
    names = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return frozenset({node.name})
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return frozenset((alias.asname or alias.name).split(".")[0] for alias in node.names)
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            names |= bound_names(child)
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
    return first, _segment(node, lines)


def _segment(node: ast.AST, lines: list[str]) -> tuple[str, ...]:
    """``ast.get_source_segment(text, node)`` split in lines, from the lines already
    split (that function splits the whole text again at each call, in a Python loop:
    minutes for a cell of 50 MB). Columns are UTF-8 byte offsets, as ``ast`` gives them."""
    rows = lines[node.lineno - 1:node.end_lineno]
    if not rows:
        return ("",)
    if len(rows) == 1:
        return (rows[0].encode("utf-8")[node.col_offset:node.end_col_offset]
                .decode("utf-8", "replace"),)
    return (rows[0].encode("utf-8")[node.col_offset:].decode("utf-8", "replace"),
            *rows[1:-1],
            rows[-1].encode("utf-8")[:node.end_col_offset].decode("utf-8", "replace"))


def _lines(text: str) -> list[str]:
    """``text``'s lines as ``ast`` numbers them (a lone carriage return ends a line)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


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
            tree = parse_python(text)
        except SyntaxError:
            text, removed = _strip_magics(cell.text)
            result.left_out += [LeftOut(kind, cell.number, line, shown)
                                for kind, line, shown in removed]
            try:
                tree = parse_python(text)
            except SyntaxError as error:
                result.syntax_errors.append(SyntaxProblem(
                    cell.number, error.lineno or 1, error.msg,
                    tuple(_DEFINED.findall(cell.text))))
                continue
        lines = _lines(text)
        parsed += [(cell.number, node, text, lines) for node in tree.body]

    colab_names = set()
    for _, node, _, _ in parsed:
        if _is_colab_import(node):
            colab_names |= bound_names(node)
    defined_code = {n.name for _, n, _, _ in parsed
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}

    # Each statement: 'keep' (definitions, imports), 'candidate' or a left-out kind.
    decision, reads = {}, {}
    for index, (_, node, _, _) in enumerate(parsed):
        reads[index] = global_reads(node)
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
    kept_bound = set().union(*[bound_names(parsed[i][1]) for i, d in decision.items()
                               if d == "keep"] or [set()])
    # Names only work binds taint the candidates that read them, transitively.
    changed = True
    while changed:
        tainted = set().union(*[bound_names(parsed[i][1]) for i, d in decision.items()
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
            if d == "candidate" and bound_names(parsed[index][1]) & needed:
                decision[index], changed = "keep", True
                needed |= reads[index]
    for index, d in sorted(decision.items()):
        cell, node, text, lines = parsed[index]
        first, segment = _statement_lines(node, text, lines)
        if d == "keep":
            future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
            result.kept.append(Kept(bound_names(node), reads[index], cell, first, segment,
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
            for name in bound_names(node) - kept_bound:
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
