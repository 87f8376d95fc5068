"""Finds imports that a student added to a skeleton file (read with ast; the judge
never imports student code)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Mapping


def imports_of(source: str) -> set[str]:
    """Every import in ``source`` as 'import X' or 'from X import Y' (aliases dropped,
    imports inside functions included)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(f"import {alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found.update(f"from {module} import {alias.name}" for alias in node.names)
    return found


def with_variants(allowed: frozenset[str], name_variants: Mapping) -> frozenset[str]:
    """``allowed`` plus every published spelling of the names it imports: importing
    `digitconvolution_Loss` is as legitimate as importing `digitconvolution_loss`."""
    more = set(allowed)
    for statement in allowed:
        head, _, imported = statement.rpartition(" import ")
        for variants in name_variants.values():
            if head.startswith("from ") and imported in variants:
                more.update(f"{head} import {variant}" for variant in variants)
    return frozenset(more)


def added_imports(student_dir: Path, allowed_imports: Mapping,
                  name_variants: Mapping) -> dict[str, list[str]]:
    """For each submitted skeleton file, the imports its skeleton does not have
    (``allowed_imports``: file -> statements, as an Assignment has them)."""
    added = {}
    for name, allowed in allowed_imports.items():
        allowed = with_variants(allowed, name_variants)
        path = student_dir / name
        try:
            found = imports_of(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError):
            continue  # missing or unparsable: the sandbox reports it with the question
        extra = sorted(found - allowed)
        if extra:
            added[name] = extra
    return added
