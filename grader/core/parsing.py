"""Parsing a submission's bytes: the one place whose errors every reader of
notebooks and scripts can rely on (judge, sandbox-free recognition, bulk's intake,
similarity).

``parse_python`` is ``ast.parse`` whose every failure is a ``SyntaxError``: Python's
own syntax errors as they are, and ``Unparsable`` (a ``SyntaxError`` too) for code
Python cannot parse at all (an expression 100,000 terms long or nested thousands of
levels deep: ``RecursionError``; ``MemoryError``; NUL bytes: ``ValueError``), with a
message that says so. Callers that already turn a ``SyntaxError`` into the student's
message (a notebook cell, a recognised file, an import check) need nothing more.
``load_json`` is ``json.loads`` whose every failure is a ``ValueError``
(``json.JSONDecodeError`` as it is, or ``TooDeep`` for JSON nested deeper than
Python's recursion allows).
"""

from __future__ import annotations

import ast
import json


class Unparsable(SyntaxError):
    """Code that no Python can parse; ``msg`` says why, in a sentence for a person."""


class TooDeep(ValueError):
    """JSON nested deeper than the parser can follow."""


def parse_python(text: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse(text)``; raises ``SyntaxError`` (maybe ``Unparsable``) and nothing
    else for any text."""
    try:
        return ast.parse(text, filename=filename)
    except SyntaxError:
        raise
    except RecursionError:
        problem = ("it chains or nests expressions too deeply for Python to parse (Python "
                   "itself could not compile or run this file)")
    except MemoryError:
        problem = "it is too large for Python to parse in the memory available"
    except ValueError as error:       # NUL bytes, in older Pythons
        problem = f"it is not Python source text ({error})"
    raise Unparsable(problem, (filename, None, None, None))


def load_json(text: str):
    """``json.loads(text)``; raises ``ValueError`` and nothing else for any text."""
    try:
        return json.loads(text)
    except RecursionError:
        raise TooDeep("it is JSON nested deeper than any notebook Jupyter saves (over a "
                      "thousand levels)") from None
    except MemoryError:
        raise TooDeep("it is JSON too large to read in the memory available") from None
