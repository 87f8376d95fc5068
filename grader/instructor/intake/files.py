"""One submission's files, wherever they lie in its folder or zip: the student files,
notebooks and scripts found (``from_folder``, ``from_zip``, ``find_student_files``),
and the safe extraction of zips every layout uses (``extract``, ``fresh_dir``).

Besides the expected files, a submission's notebooks (``.ipynb``) and other Python
scripts (``.py``), under any names and in nested folders, are carried to the top of
the folder ``autograder.py`` grades (grader/core/handed_in.py reads them there):
flattened by file name, the shallowest copy of each name wins, as for the expected
files, and two files of one name at the same depth are a problem. Left
out: ``__MACOSX``, hidden files and folders (``.ipynb_checkpoints``),
``__pycache__``, the kit's own files when a student handed in the whole release
(``autograder.py``, ``backend.py``, the support modules, a ``grader/`` package) and
installed packages (``site-packages``, a virtual environment's folder). A submission
whose only code is notebooks or scripts that cannot be read is ``unreadable``, with
the reason; beside code that can be read, such a file is named in ``problem`` and
the rest is graded.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from grader import assignments
from grader.core.handed_in import SOURCE_SUFFIXES, UnreadableSource, read_source
from grader.core.source import PROJECT_FILES
from grader.instructor.common.submission import (NO_FILES, OK, UNREADABLE, Submission,
                                                 SubmissionsError, printable)

MAX_ENTRY_BYTES = 50 * 1024 * 1024  # refuse a zip entry bigger than this, uncompressed
MAX_ZIP_ENTRIES = 100_000            # refuse a zip with more entries than this
MAX_ZIP_BYTES = 4 * 2**30            # ... or more than this in all, uncompressed
IGNORED_NAMES = ("__MACOSX", "__pycache__", "site-packages")

def student_file_names() -> tuple[str, ...]:
    """The names of every assignment's student files (a submission is searched for
    each; the autograder then recognises which assignment they belong to)."""
    return tuple(dict.fromkeys(name for assignment in assignments.registry().values()
                               for name in assignment.student_files))


def kit_file_names() -> frozenset[str]:
    """The names of the files the kit ships at the top of a release beside the student
    files (``autograder.py``, ``backend.py``, each assignment's support module): a
    student who hands in the whole release has not written them, so they are never
    read as the student's scripts."""
    names = set(PROJECT_FILES)
    for assignment in assignments.registry().values():
        names.update(Path(name).name for name in assignment.release.files)
        names.update(assignment.release.top_level)
        names.update(Path(module).name for module in assignment.support_modules)
    return frozenset(name for name in names if name.lower().endswith(SOURCE_SUFFIXES))


def _near_miss(names: tuple[str, ...]) -> re.Pattern:
    """Names that miss a student file's: "models (1).py", "Models.py", "train-2.py",
    "losses copy.py", "gpt_model.py.txt"."""
    stems = "|".join(re.escape(Path(name).stem) for name in names)
    return re.compile(rf"^(?P<base>{stems})\s*(\(\d+\)|[-_ ]\d+|[-_ ]?copy)?\.py(\.txt)?$",
                      re.IGNORECASE)


# ---------------------------------------------------------------- one submission

def from_zip(sub_id: str, archive: Path, workdir: Path) -> Submission:
    destination = fresh_dir(workdir, sub_id)
    problem = extract(archive, destination, keep=is_code_entry)
    if problem:
        return Submission(sub_id, archive, {}, (), UNREADABLE, problem)
    return from_folder(sub_id, archive, destination)


def find_student_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Search one submission's ``folder`` (nested folders too) as ``discover`` does:
    return the student files and the notebooks and scripts found (the shallowest copy
    of each name) and one sentence per problem. Unlike ``discover``, two copies of a
    name at the same depth drop only that file (grade neither copy, say so) and the
    other files are still returned; a notebook that cannot be read is carried as it
    is (``autograder.py`` names it and grades the rest)."""
    folder = Path(folder)
    found = _scan(folder)
    problems = [f"cannot read {error}: fix its permissions and submit again"
                for error in found.errors]
    files, clashes = _pick(folder, found)
    problems += [f"{clash}: neither was graded; keep one and submit again"
                 for clash in clashes]
    problems += found.left_out + _case_twins(files) + _hints(folder, found, files)
    if not files:
        problems += _zip_hints(folder, found)
    return files, problems


def from_folder(sub_id: str, source: Path, folder: Path) -> Submission:
    """Search ``folder`` (nested) for the student files, notebooks and scripts, and
    judge what was found."""
    found = _scan(folder)
    if found.errors:
        return Submission(sub_id, source, {}, (), UNREADABLE,
                          f"cannot read {found.errors[0]}: fix its permissions and run again")
    files, clashes = _pick(folder, found)
    if clashes:
        return Submission(sub_id, source, {}, (), UNREADABLE,
                          f"{clashes[0]}: keep one and grade again")
    hints = found.left_out + _case_twins(files) + _hints(folder, found, files)
    readable, unreadable, empty = _read_sources(folder, files)
    if readable or any(name in files for name in student_file_names()):
        ignored = [f"{path} is ignored: it {reason}" for path, reason in unreadable]
        return Submission(sub_id, source, files, (), OK, "; ".join(hints + ignored))
    if unreadable:
        return Submission(sub_id, source, {}, (), UNREADABLE, "nothing could be graded: " +
                          "; ".join(f"{path} {reason}" for path, reason in unreadable))
    names = student_file_names()
    problem = "; ".join(hints + [f"{path} holds no code (an empty notebook counts as "
                                 "nothing handed in)" for path in empty]
                        + _zip_hints(folder, found)) or (
        f"none of {', '.join(names)} found in {source}, and no notebook (.ipynb) or "
        "script (.py) either: ask the student to resubmit the files under those exact "
        "names, or their notebooks or scripts")
    return Submission(sub_id, source, {}, (), NO_FILES, problem)


@dataclass
class _Found:
    """What ``_scan`` found in one submission's folder, each name -> its paths."""
    copies: dict[str, list[Path]] = field(default_factory=dict)       # student files
    sources: dict[str, list[Path]] = field(default_factory=dict)      # notebooks, scripts
    near_misses: dict[str, list[Path]] = field(default_factory=dict)  # keyed by the name missed
    errors: list[str] = field(default_factory=list)                   # folders not readable
    left_out: list[str] = field(default_factory=list)     # links, names not UTF-8: a sentence each
    zips: list[Path] = field(default_factory=list)        # zips inside the submission


def _scan(folder: Path) -> _Found:
    """Walk ``folder``: exact student file names, notebooks and other scripts (but
    the kit's own files and folders), near-miss names, and the folders that could not
    be read. A symbolic link, to a file or a folder, is never followed: it is left
    out with a sentence naming it and its target (``link_note``)."""
    found = _Found()
    wanted, kit = student_file_names(), kit_file_names()
    near_miss = _near_miss(wanted)
    for current, dirs, names in os.walk(folder, onerror=lambda error: found.errors.append(
            printable(str(error.filename or error)))):
        linked = sorted(d for d in dirs if not ignored(d) and Path(current, d).is_symlink())
        found.left_out += [link_note(Path(current, d), folder) for d in linked]
        garbled = sorted(d for d in dirs if not ignored(d) and d not in linked
                         and printable(d) != d)
        found.left_out += [_name_note(Path(current, d), folder) for d in garbled]
        dirs[:] = sorted(d for d in dirs if not ignored(d) and d not in linked + garbled
                         and not _kit_folder(Path(current, d)))
        for name in names:
            if ignored(name):
                continue
            path = Path(current, name)
            if printable(name) != name:
                if name.lower().endswith(SOURCE_SUFFIXES):
                    found.left_out.append(_name_note(path, folder))
                continue
            if name.lower().endswith(".zip"):
                found.zips.append(path)
            if path.is_symlink():
                if name in wanted or name.lower().endswith(SOURCE_SUFFIXES):
                    found.left_out.append(link_note(path, folder))
                continue
            if name in wanted:
                found.copies.setdefault(name, []).append(path)
                continue
            if match := near_miss.match(name):
                found.near_misses.setdefault(f"{match['base'].lower()}.py", []).append(path)
            if name.lower().endswith(SOURCE_SUFFIXES) and name not in kit:
                found.sources.setdefault(name, []).append(path)
    return found


def link_note(link: Path, root: Path) -> str:
    """One sentence for a symbolic link in a submission, which is never followed: its
    name, its target, and whether the target lies outside the submission (a link can
    point at the staff solution, a classmate's folder, anything the grader can read)."""
    shown = link.relative_to(root).as_posix() if link.is_relative_to(root) else link.name
    try:
        target = os.readlink(link)
    except OSError:
        target = "?"
    where = "inside" if (link.parent / target).resolve().is_relative_to(root.resolve()) \
        else "outside"
    shown, target = printable(shown), printable(target)
    return (f"'{shown}' is a symbolic link to '{target}' ({where} the submission): left out, "
            "since links are never followed; hand in the file itself")


def _name_note(path: Path, root: Path) -> str:
    """One sentence for a file or folder whose name is not UTF-8 text (a name made on
    another system, or bytes a zip tool garbled): left out, since it cannot be shown,
    written or told apart reliably."""
    return (f"'{printable(path.relative_to(root).as_posix())}' is left out: its name is not "
            "UTF-8 text; rename it (plain letters, digits, '_' and '.') and hand it in again")


def _kit_folder(folder: Path) -> bool:
    """The kit's ``grader/`` package (a student handed in the whole release) or a
    virtual environment: nothing in it is the student's code."""
    try:
        return (folder.name == "grader" and (folder / "__init__.py").is_file()) \
            or (folder / "pyvenv.cfg").is_file()
    except OSError:
        return False


def _pick(folder: Path, found: _Found) -> tuple[dict[str, Path], list[str]]:
    """The shallowest copy of each student file, then of each notebook or script
    (flattened by file name: the folder graded holds them side by side), and a
    sentence for each name with two copies at the same depth (left out of the files)."""
    files, clashes = {}, []
    candidates = [(name, found.copies.get(name, [])) for name in student_file_names()]
    candidates += sorted(found.sources.items())
    for name, paths in candidates:
        shallowest = _shallowest(paths)
        if len(shallowest) > 1:
            first, second = (path.relative_to(folder) for path in shallowest[:2])
            clashes.append(f"two copies of {name} at the same depth ('{first}' and "
                           f"'{second}')")
        elif shallowest:
            files[name] = shallowest[0]
    return files, clashes


def _case_twins(files: dict[str, Path]) -> list[str]:
    """Leave out of ``files`` each name that differs from another only in case
    ('Models.py' beside 'models.py'): graded side by side in one folder, the two are
    one file on Windows and macOS. The student file's exact name wins, else the first
    in sorted order; a sentence for each name left out."""
    expected, kept, notes = set(student_file_names()), {}, []
    for name in sorted(files, key=lambda name: (name not in expected, name)):
        twin = kept.get(name.casefold())
        if twin is None:
            kept[name.casefold()] = name
            continue
        del files[name]
        notes.append(f"'{name}' is left out: its name differs from '{twin}' only in case, "
                     "and on Windows and macOS the two are one file; rename one")
    return notes


def _zip_hints(folder: Path, found: _Found) -> list[str]:
    """A sentence for each zip inside a submission that has nothing else to grade."""
    return [f"'{path.relative_to(folder).as_posix()}' is a zip inside the submission, and "
            "only one level of zip is opened (the submission's own zip, never one inside "
            "it or inside its folder): unzip it and grade again, or ask the student to hand "
            "in the files themselves" for path in sorted(found.zips)]


def _hints(folder: Path, found: _Found, files: dict[str, Path]) -> list[str]:
    """A sentence per near-miss name of a student file that is missing: a script is
    still read as one (its definitions can stand in for the file's)."""
    hints = []
    for name, paths in sorted(found.near_misses.items()):
        if name in files:
            continue
        for path in sorted(paths):
            shown = path.relative_to(folder)
            if files.get(path.name) == path:
                hints.append(f"found '{shown}' but no {name}: it is graded as a script "
                             f"standing in for {name}; rename it to {name}")
            else:
                hints.append(f"found '{shown}' but no {name}: rename it to {name}")
    return hints


def _read_sources(folder: Path, files: dict[str, Path]) \
        -> tuple[bool, list[tuple[str, str]], list[str]]:
    """Whether any notebook or script among ``files`` holds code that can be read;
    (path, reason) for each that cannot (grader/core/handed_in.py's reason); the
    paths of those that hold no code."""
    readable, unreadable, empty = False, [], []
    expected = set(student_file_names())
    for name, path in sorted(files.items()):
        if name in expected:
            continue
        shown = path.relative_to(folder).as_posix()
        try:
            source = read_source(path, shown)
        except UnreadableSource as problem:
            unreadable.append((problem.path, problem.reason))
            continue
        except OSError as error:
            unreadable.append((shown, f"could not be read ({error.strerror or error})"))
            continue
        if source.is_empty:
            empty.append(shown)
        else:
            readable = True
    return readable, unreadable, empty


def _shallowest(paths: list[Path]) -> list[Path]:
    if not paths:
        return []
    depth = min(len(path.parts) for path in paths)
    return sorted(path for path in paths if len(path.parts) == depth)


# ---------------------------------------------------------------- files and zips

def is_code_entry(name: str) -> bool:
    """Whether a student's zip entry can matter to grading: a notebook, a script, a zip
    (named when nothing else is found) or the marker of a virtual environment. The rest
    (data sets, pictures, reports) is never extracted, nor held to the size limit."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return base.endswith(SOURCE_SUFFIXES + (".zip",)) or base == "pyvenv.cfg"


def extract(archive: Path, destination: Path, keep=None) -> str:
    """Extract ``archive`` into ``destination`` (only the entries whose names ``keep``
    accepts, when given); return a problem sentence, or "". Nothing is extracted from
    a zip with an entry that climbs out of its folder, an extracted entry over
    ``MAX_ENTRY_BYTES``, more than ``MAX_ZIP_ENTRIES`` entries, or more than
    ``MAX_ZIP_BYTES`` in all to extract, uncompressed (as its listing declares them;
    an entry never yields more than it declares)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            listed = zipped.infolist()
            entries = [entry for entry in listed if keep is None or keep(entry.filename)]
            if len(listed) > MAX_ZIP_ENTRIES:
                return (f"{archive.name} has {len(listed):,} entries (limit "
                        f"{MAX_ZIP_ENTRIES:,}): not extracted; open it by hand, and if it is "
                        "genuine, unzip it and grade the folder")
            total = sum(entry.file_size for entry in entries)
            if total > MAX_ZIP_BYTES:
                return (f"{archive.name} holds {total:,} bytes uncompressed (limit "
                        f"{MAX_ZIP_BYTES:,}): not extracted; open it by hand, and if it is "
                        "genuine, unzip it and grade the folder")
            kept = {id(entry) for entry in entries}
            for entry in listed:
                problem = _unsafe_entry(archive, entry, id(entry) in kept)
                if problem:
                    return problem
            zipped.extractall(destination, members=entries)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            OSError) as error:
        return (f"{archive.name} is not a readable zip ({type(error).__name__}: {error}): "
                "ask the student to zip the files again")
    return ""


def _unsafe_entry(archive: Path, entry: zipfile.ZipInfo, extracted: bool) -> str:
    name = entry.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in name.split("/"):
        return (f"{archive.name} contains '{entry.filename}', a path outside the zip's own "
                "folder: not extracted; open it by hand and check it")
    if extracted and entry.file_size > MAX_ENTRY_BYTES:
        return (f"{archive.name} contains '{entry.filename}' of {entry.file_size:,} bytes "
                f"uncompressed (limit {MAX_ENTRY_BYTES:,}): not extracted; open it by hand")
    return ""


def fresh_dir(workdir: Path, name: str) -> Path:
    """A new, empty folder under ``workdir`` (never an existing one)."""
    workdir.mkdir(parents=True, exist_ok=True)
    prefix = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60] + "-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=workdir))


def check_workdir_outside(folder: Path, workdir: Path) -> None:
    if workdir.resolve().is_relative_to(folder.resolve()):
        raise SubmissionsError(f"the work folder {workdir} is inside the submissions folder "
                               f"{folder}: choose a work folder elsewhere")


def visible_entries(folder: Path) -> list[Path]:
    try:
        return sorted(entry for entry in folder.iterdir() if not ignored(entry.name))
    except OSError as error:
        raise SubmissionsError(f"cannot list {folder} ({error}): check its permissions") from error


def ignored(name: str) -> bool:
    return name.startswith(".") or name in IGNORED_NAMES
