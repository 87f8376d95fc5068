"""Which course version a submission was written for, read from the source (the
judge runs this: no student code runs here).

A submission of the earlier, models-only handout keeps everything in models.py:
its model classes define ``train(self, dataset)`` and train.py is absent or still
the skeleton. Such a submission is graded under that version, and the autograder
says so once at the start, with the flag that chooses another.
"""

from __future__ import annotations

import ast
from pathlib import Path

from grader.core.parsing import parse_python
from grader.core.source import is_stub_node

DEFAULT_COURSE = "current"

ATTENTION_CLASSES = ("Attention", "AttentionBlock")


def _parse(path: Path) -> ast.Module | None:
    try:
        return parse_python(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None


def _methods(tree: ast.Module) -> dict[str, dict[str, ast.FunctionDef]]:
    """class name -> method name -> definition, for the module's top-level classes."""
    return {node.name: {item.name: item for item in node.body
                        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}
            for node in tree.body if isinstance(node, ast.ClassDef)}


def _trains_on_a_dataset(method: ast.FunctionDef) -> bool:
    """``def train(self, dataset)``: one argument after self, not torch's ``mode``."""
    arguments = method.args.posonlyargs + method.args.args
    required = len(arguments) - len(method.args.defaults)
    return required == 2 and arguments[1].arg != "mode"


def _filled_functions(tree: ast.Module | None) -> list[str]:
    if tree is None:
        return []
    return [node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and not node.name.startswith("_") and not is_stub_node(node)]


def detect(student_dir: Path) -> tuple[str, str]:
    """(course version, why) for the files in ``student_dir``; the default version
    with '' when nothing points elsewhere."""
    models = _parse(student_dir / "models.py")
    if models is None:
        return DEFAULT_COURSE, ""
    classes = _methods(models)
    # Stubs count too: the earlier handout's skeleton itself is recognised.
    trainers = sorted(name for name, methods in classes.items()
                      if "train" in methods and _trains_on_a_dataset(methods["train"]))
    if not trainers:
        return DEFAULT_COURSE, ""
    training = _filled_functions(_parse(student_dir / "train.py")) \
        if (student_dir / "train.py").is_file() else []
    if training:
        return DEFAULT_COURSE, ""
    attention = any(name in classes and "forward" in classes[name]
                    and not is_stub_node(classes[name]["forward"])
                    for name in ATTENTION_CLASSES)
    version = "models-only-q6" if attention else "models-only"
    return version, (f"models.py defines {', '.join(f'{n}.train(self, dataset)' for n in trainers)}"
                     " and train.py has no training functions"
                     + (", and models.py has an attention block" if attention else ""))


def as_version(name: str):
    """The recogniser of course version ``name`` for its Assignment (core/table.py):
    why the files are that version's, or ''."""
    def recognise(student_dir: Path) -> str:
        version, why = detect(student_dir)
        return why if version == name else ""
    recognise.__qualname__ = f"as_version({name!r})"
    return recognise
