"""Loading student modules inside the sandbox, and describing what went wrong.

Used only in the sandbox process (grader/sandbox/main.py): it is the one place that
imports student files. Every problem becomes a ``StepFailure`` or an exception
description whose message names the student's file, line and what to do.
"""

from __future__ import annotations

import importlib
import sys
import traceback
import types
from pathlib import Path

from grader.core.source import StepFailure, StudentFiles, is_stub

MEMORY_ERROR_HINTS = ("can't allocate memory", "not enough memory", "out of memory",
                      "defaultcpuallocator")


def describe_exception(error: BaseException, files: StudentFiles | None) -> dict:
    """A JSON-able description of an exception raised while running student code."""
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if files is not None and files.contains(f.filename)]
    shown = mine or frames[-3:]
    lines = []
    for frame in shown:
        name = files.short(frame.filename) if files else frame.filename
        lines.append(f'File "{name}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    # The exception's own text may hold a path in the sandbox's copy of the folder.
    shown_text = files.shown_text if files is not None else str
    lines.append(shown_text("".join(traceback.format_exception_only(type(error), error)).strip()))
    hint = _hint(error)
    if hint:
        lines.append(f"Hint: {hint}")
    where = ""
    if mine:
        where = f"{files.short(mine[-1].filename)}:{mine[-1].lineno}"

    # `message` is a verb phrase: callers put what was running in front of it.
    kind, message = "exception", f"raised {type(error).__name__}: {shown_text(str(error))}"
    if isinstance(error, SystemExit):
        kind, message = "exit", (f"called exit()/sys.exit({error.code!r}); do not exit "
                                 "while the autograder runs your code")
    elif isinstance(error, KeyboardInterrupt):
        kind, message = "interrupt", "raised KeyboardInterrupt"
    elif isinstance(error, MemoryError) or (
            isinstance(error, RuntimeError)
            and any(hint in str(error).lower() for hint in MEMORY_ERROR_HINTS)):
        kind, message = "memory", (f"ran out of memory ({type(error).__name__}: "
                                   f"{shown_text(str(error))})")
    elif files is not None and not mine:
        kind = "grader"  # no student frame at all: our own code failed
    return {"kind": kind, "type": type(error).__name__, "message": message,
            "where": where, "traceback": "\n".join(lines)}


def _hint(error: BaseException) -> str:
    try:
        from grader.checks.hints import exception_hint
        return exception_hint(error)
    except Exception:  # noqa: BLE001 - advice is optional; the failure itself is reported
        return ""


def student_frames_here(files: StudentFiles) -> str:
    """'train.py:12 in train_perceptron' for the innermost student frame calling us."""
    for frame in reversed(traceback.extract_stack()):
        if files.contains(frame.filename):
            return f"{files.short(frame.filename)}:{frame.lineno} in {frame.name}"
    return ""


class _Unavailable(types.ModuleType):
    """Stands in for a student module that failed to import but that the current
    question does not use (train.py imports losses.py even for question 1)."""

    def __init__(self, name: str, reason: str):
        super().__init__(name)
        self.__reason = reason

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        reason = self.__reason

        def unavailable(*args, **kwargs):
            raise StepFailure("import", reason)
        return unavailable


class StudentModules:
    """Imports the student's files from their folder, once each.

    First, before the student's folder is on the path, it imports the assignment's
    ``support_modules`` (project files such as ``backend.py``, by their stem) from
    the project, so that a copy in the student's folder cannot stand in for them.
    ``name_variants`` (name -> spellings) are the names the assignment published
    under several spellings; ``lookup`` accepts each."""

    def __init__(self, project_root: Path, student_dir: Path,
                 support_modules: tuple[str, ...] = ("backend.py",), name_variants=None,
                 shown_as: str | None = None, made_dir: Path | None = None,
                 left_out: dict[str, str] | None = None):
        root = project_root.resolve()
        folders = []
        for relative in support_modules:
            path = root / relative
            folders.append(str(path.parent))
            sys.path.insert(0, str(path.parent))
            try:
                importlib.import_module(path.stem)
            finally:
                sys.path.pop(0)

        self.student_dir = student_dir.resolve()
        self.files = StudentFiles(project_root, student_dir, shown_as, made_dir)
        self.name_variants = dict(name_variants or {})
        sys.path[:] = [p for p in sys.path if p not in ("", ".", str(root))]
        sys.path.insert(0, str(self.student_dir))
        # Modules made from the student's notebooks or scripts (core/handed_in.py)
        # come first: they stand in for missing or still-skeleton files.
        self.made_dir = made_dir.resolve() if made_dir is not None else None
        if self.made_dir is not None:
            sys.path.insert(0, str(self.made_dir))
        # Last, so that DataLoader workers started with "spawn" (the default on macOS
        # and Windows) can import backend to unpickle the dataset, as they can in the
        # student's own project folder. Student modules are loaded from their folder
        # only (_import checks the file is there), never from the project's skeletons.
        sys.path.extend(dict.fromkeys([str(root), *folders]))
        self._failures: dict[str, StepFailure] = {}
        # Files the judge left out (a link, too large, binary): never imported, not
        # even by another student file (grader/judge/submitted.py says why).
        for file_name, reason in (left_out or {}).items():
            name = Path(file_name).stem
            self._failures[name] = StepFailure("not_submitted", f"{reason}.")
            sys.modules[name] = _Unavailable(name, f"{reason}.")

    def load(self, name: str, *, optional: tuple[str, ...] = ()):
        for dependency in optional:
            try:
                self.load(dependency)
            except StepFailure as failure:
                sys.modules[dependency] = _Unavailable(dependency, failure.message)
        if name in self._failures:
            raise self._failures[name]
        if name in sys.modules and not isinstance(sys.modules[name], _Unavailable):
            return sys.modules[name]
        try:
            module = self._import(name)
        except StepFailure as failure:
            self._failures[name] = failure
            raise
        _unify_variants(module, self.name_variants)
        return module

    def _import(self, name: str):
        path = self.student_dir / f"{name}.py"
        if self.made_dir is not None and (self.made_dir / f"{name}.py").is_file():
            path = self.made_dir / f"{name}.py"
        if not path.is_file():
            where = (f"there is no {self.files.shown(str(path))}" if self.files.shown_as
                     else "it is not among the submission's files")
            raise StepFailure("not_submitted", f"{name}.py was not submitted ({where}).")
        sys.modules.pop(name, None)
        try:
            return importlib.import_module(name)
        except SyntaxError as error:
            sys.modules.pop(name, None)
            where = f"{self.files.short(error.filename or str(path))}, line {error.lineno}"
            text = (error.text or "").rstrip("\n")
            caret = " " * max((error.offset or 1) - 1, 0) + "^" if text else ""
            detail = "\n".join(part for part in (f"    {text}", f"    {caret}") if part.strip())
            raise StepFailure("syntax", f"{name}.py has a syntax error ({where}): "
                                        f"{error.msg}", detail) from None
        except BaseException as error:  # noqa: B036 - an import may run anything
            sys.modules.pop(name, None)
            info = describe_exception(error, self.files)
            raise StepFailure("import", f"{name}.py could not be imported: {info['message']}",
                              info["traceback"]) from None

    def lookup(self, module, name: str):
        variants = self.name_variants.get(name, (name,))
        for variant in variants:
            if hasattr(module, variant):
                return getattr(module, variant)
        spelled = " or ".join(variants)
        raise StepFailure("missing", f"{module.__name__}.py has no {spelled}. Keep the "
                                     "skeleton's names: the autograder looks them up.")


def _unify_variants(module, name_variants) -> None:
    """Give every published spelling of a name (``name_variants``: name ->
    spellings) the same definition, preferring one that is not a skeleton stub."""
    for variants in name_variants.values():
        found = [getattr(module, v) for v in variants if hasattr(module, v)]
        if not found:
            continue
        chosen = next((obj for obj in found if not is_stub(obj)), found[0])
        for variant in variants:
            setattr(module, variant, chosen)
