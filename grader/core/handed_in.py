"""What was handed in, turned into the modules the questions import.

A submission may hold notebooks (``.ipynb``) and scripts beside, or instead of, the
files an assignment expects. Three steps, one module each, and this one for a whole
folder; none runs student code or changes a file:

    source = read_source(path)          # handed_in_reading: a Source, its code cells
    extraction = extract(source)        # handed_in_extraction: kept / left out
    module = assemble("networks.py", names, [extraction, ...])  # handed_in_assembly
    module.text, module.provenance(), module.relocate(traceback_text, "networks.py")

``assemble`` writes the text of an expected module with a map from each of its lines
back to the notebook cell or script line it came from; ``read_submission`` (here)
does all three for a folder (``HandedIn``). The public names of the other three
modules are importable from here.

The rules are in each module's docstring (the README states them to students).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.core.handed_in_assembly import Module, Origin, _top_level_names, assemble
from grader.core.handed_in_extraction import (LEFT_OUT_KINDS, Extraction, Kept, LeftOut,
                                              MissingGlobal, SyntaxProblem, extract)
from grader.core.handed_in_reading import (Cell, Source, UnreadableSource, order_sources,
                                           read_notebook, read_script, read_source)
from grader.core.parsing import parse_python

__all__ = ["LEFT_OUT_KINDS", "SOURCE_SUFFIXES", "Cell", "Extraction", "HandedIn", "Kept",
           "LeftOut", "MissingGlobal", "Module", "Origin", "Source", "SyntaxProblem",
           "UnreadableSource", "assemble", "defined_names", "extract", "order_sources",
           "read_notebook", "read_script", "read_source", "read_submission",
           "skeleton_names", "stub_names"]


# ---------------------------------------------------------------- a submission

SOURCE_SUFFIXES = (".ipynb", ".py")


def skeleton_names(text: str) -> list[str]:
    """The top-level ``def``/``class`` names of a skeleton: what a file must provide."""
    try:
        tree = parse_python(text)
    except SyntaxError:
        return []
    return [node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def stub_names(text: str, skeleton: str | None = None) -> set[str] | None:
    """Names a handed-in expected file still defines as the skeleton's stub (a class
    by its ``forward``; ``source.is_stub_node``), or exactly as the ``skeleton`` text
    defines them (a skeleton's ``Convolve`` may ``return`` a placeholder: unchanged,
    it is still not the student's answer); None when the file does not parse (it is
    then imported as it is, and its syntax error reported as usual)."""
    from grader.core.source import is_stub_node
    try:
        tree = parse_python(text)
    except SyntaxError:
        return None
    as_given = _definition_dumps(skeleton)
    found = set()
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.ClassDef):
            forward = next((n for n in node.body if isinstance(n, ast.FunctionDef)
                            and n.name == "forward"), None)
            stub = forward is not None and is_stub_node(forward)
        else:
            stub = is_stub_node(node)
        if stub or as_given.get(node.name) == ast.dump(node):
            found.add(node.name)
        else:
            found.discard(node.name)      # a later, filled definition wins
    return found


def _definition_dumps(text: str | None) -> dict[str, str]:
    """Each top-level ``def``/``class`` of ``text`` -> its ``ast.dump`` (positions and
    comments do not count); empty when there is no text or it does not parse."""
    try:
        tree = parse_python(text or "")
    except SyntaxError:
        return {}
    return {node.name: ast.dump(node) for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


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


def read_submission(folder: Path, expected: dict, ignore=(),
                    skeletons: dict | None = None) -> HandedIn:
    """Reads the notebooks and scripts at the top of ``folder`` (``.ipynb``/``.py``
    files but the ``expected`` ones and those in ``ignore``) and makes the expected
    modules they must stand in for.

    ``expected`` maps each expected file name to the names it must provide (the
    skeleton's, see ``skeleton_names``); ``skeletons`` its skeleton's text, when
    known. A module is made for an expected file that is missing, or that still
    holds a skeleton stub for a name (``stub_names``: a stub, or the skeleton's
    definition unchanged),
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
            stubs = stub_names(file_source.cells[0].text, (skeletons or {}).get(name))
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
