"""Finds the student submissions to grade in bulk, whatever shape the instructor got.

``discover(path, workdir)`` accepts three layouts (``Layout``): a folder of
per-student folders, a folder of per-student ``.zip`` files (or a mix of both), and
Gradescope's "Export Submissions" (a folder, or a .zip of it, holding
``submission_metadata.yml`` and one ``submission_<id>/`` folder per submission);
Canvas's and Moodle's downloads of every submission (a folder, or the .zip itself)
are read by grader/instructor/lms.py, one submission per student. ``find`` also
returns the notes to print once; ``--layout`` (``LAYOUT_CHOICES``) forces a layout.
Every zip is extracted into a fresh folder under ``workdir``; nothing is written next
to the input. Each submission comes back as a value (``Submission``) with a status
and, when something is wrong, a one-sentence ``problem`` saying what to do.

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

MAX_ENTRY_BYTES = 50 * 1024 * 1024  # refuse a zip entry bigger than this, uncompressed
METADATA_FILE = "submission_metadata.yml"
IGNORED_NAMES = ("__MACOSX", "__pycache__", "site-packages")

OK = "ok"
NO_FILES = "no-files"
UNREADABLE = "unreadable"
GRADED, GRADER_ERROR = "graded", "grader-error"     # the statuses a bulk run adds


def safe_name(identifier: str) -> str:
    """A file name for a submission id (ids come from folder and zip names)."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in identifier) or "_"



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


class Layout:
    """The input layouts ``discover`` recognises (plain strings, for reports and JSON)."""
    FOLDERS = "folders"
    ZIPS = "zips"
    MIXED = "mixed"
    GRADESCOPE = "gradescope"
    CANVAS = "canvas"
    MOODLE = "moodle"


AUTO = "auto"
LAYOUT_CHOICES = (AUTO, Layout.FOLDERS, Layout.GRADESCOPE, Layout.CANVAS, Layout.MOODLE)


class SubmissionsError(Exception):
    """The input as a whole cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Submitter:
    name: str = ""
    email: str = ""
    sid: str = ""


@dataclass(frozen=True)
class Submission:
    """One submission. ``files`` maps each student file found (names from
    ``student_file_names()``) and each notebook or script (by its file name: they are
    graded side by side at the top of one folder) to its path; ``source`` is the
    student's folder or zip; ``status`` is ``ok``, ``no-files`` or ``unreadable``;
    ``problem`` is one sentence (empty when there is nothing to say)."""
    id: str
    source: Path
    files: dict[str, Path] = field(default_factory=dict)
    submitters: tuple[Submitter, ...] = ()
    status: str = OK
    problem: str = ""
    # From Canvas or Moodle: {"system", "user_id", "name", "late", "set_aside"}
    lms: dict | None = None


@dataclass(frozen=True)
class Found:
    """What ``find`` found: the layout, the submissions (sorted by id) and notes for
    the instructor, each one sentence, to print once."""
    layout: str
    submissions: list[Submission]
    notes: list[str] = field(default_factory=list)


def discover(path: Path, workdir: Path, layout: str = AUTO) -> tuple[str, list[Submission]]:
    """``find``'s layout and submissions."""
    found = find(path, workdir, layout)
    return found.layout, found.submissions


def find(path: Path, workdir: Path, layout: str = AUTO) -> Found:
    """Detect the layout of ``path`` (or take ``layout``, one of ``LAYOUT_CHOICES``)
    and find its submissions.

    ``path`` is a folder (of folders and/or zips, an unpacked Gradescope export, or
    Canvas's or Moodle's download) or a .zip of an export or download. Zips are
    extracted under ``workdir`` only. Raises ``SubmissionsError`` when ``path`` cannot
    be used at all."""
    from grader.instructor import lms     # it builds on this module's helpers
    path, workdir = Path(path), Path(workdir)
    if layout not in LAYOUT_CHOICES:
        raise SubmissionsError(f"there is no layout {layout!r}; choose from "
                               f"{', '.join(LAYOUT_CHOICES)}")
    if not path.exists():
        raise SubmissionsError(f"{path} does not exist: give the folder or .zip of submissions")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise SubmissionsError(f"{path} is neither a folder nor a .zip file: give the folder "
                                   "of submissions, Gradescope's export .zip, or Canvas's or "
                                   "Moodle's download .zip")
        root = _unpack(path, workdir)
    elif path.is_dir():
        _check_workdir_outside(path, workdir)
        root = path
    else:
        raise SubmissionsError(f"{path} is neither a folder nor a .zip file")
    if layout in (AUTO, Layout.GRADESCOPE):
        export_root = _export_root(root)
        if export_root is not None:
            return Found(Layout.GRADESCOPE, _gradescope(export_root))
        if layout == Layout.GRADESCOPE:
            raise SubmissionsError(f"--layout gradescope: {path} has no {METADATA_FILE}: give "
                                   "Gradescope's 'Export Submissions', or another --layout")
    if layout in (Layout.CANVAS, Layout.MOODLE):
        system, download = layout, lms.forced_root(root, layout)
    else:
        system, download = lms.detect(root) if layout == AUTO else (None, root)
    if system:
        submissions, notes = lms.collect(download, path if download == root else
                                         path / download.relative_to(root), system, workdir)
        return Found(system, submissions, notes)
    if path.is_file() and layout == AUTO:
        raise SubmissionsError(f"{path} has no {METADATA_FILE} and its names are not "
                               "Canvas's or Moodle's: give Gradescope's 'Export Submissions' "
                               "zip, Canvas's or Moodle's download zip, or a folder of "
                               "student folders/zips (or --layout folders)")
    return Found(*_folder_of_submissions(root, workdir))


# ---------------------------------------------------------------- layouts

def _folder_of_submissions(path: Path, workdir: Path) -> tuple[str, list[Submission]]:
    entries = _visible_entries(path)
    if not entries:
        raise SubmissionsError(f"{path} is empty: put one folder or .zip per student in it")
    folders = [entry for entry in entries if entry.is_dir()]
    zips = [entry for entry in entries if entry.is_file() and entry.suffix.lower() == ".zip"]
    if not folders and not zips:
        raise SubmissionsError(f"{path} holds no folders or .zip files: put one folder or "
                               ".zip per student in it")
    layout = Layout.MIXED if folders and zips else (Layout.FOLDERS if folders else Layout.ZIPS)
    folder_ids = {folder.name for folder in folders}
    submissions = [_from_folder(folder.name, folder, folder) for folder in folders]
    for archive in zips:
        # "alice/" next to "alice.zip": keep both, told apart by the zip's full name
        sub_id = archive.name if archive.stem in folder_ids else archive.stem
        submissions.append(_from_zip(sub_id, archive, workdir))
    return layout, sorted(submissions, key=lambda sub: sub.id)


def _gradescope(root: Path) -> list[Submission]:
    submitters = _read_metadata(root / METADATA_FILE)
    submissions = []
    for folder in _visible_entries(root):
        if folder.is_dir() and folder.name.startswith("submission_"):
            sub_id = folder.name[len("submission_"):]
            found = _from_folder(sub_id, folder, folder)
            submissions.append(Submission(found.id, found.source, found.files,
                                          submitters.get(folder.name, ()),
                                          found.status, found.problem))
    return sorted(submissions, key=lambda sub: sub.id)


def _export_root(folder: Path) -> Path | None:
    """The folder holding ``submission_metadata.yml``: ``folder`` itself or its only
    subfolder (exports zipped with one extra top folder); ``None`` if neither."""
    if (folder / METADATA_FILE).is_file():
        return folder
    entries = _visible_entries(folder)
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / METADATA_FILE).is_file():
        return entries[0]
    return None


def _unpack(archive: Path, workdir: Path) -> Path:
    """The whole export or download, extracted into a fresh folder under ``workdir``."""
    destination = _fresh_dir(workdir, archive.stem)
    problem = _extract(archive, destination)
    if problem:
        raise SubmissionsError(problem)
    return destination


def _read_metadata(metadata: Path) -> dict[str, tuple[Submitter, ...]]:
    """``submission_<id>`` -> its submitters, from Gradescope's metadata file."""
    try:
        import yaml
    except ImportError as error:
        raise SubmissionsError("reading Gradescope's submission_metadata.yml needs PyYAML: "
                               "install it with: python -m pip install PyYAML") from error
    try:
        data = yaml.load(metadata.read_text(encoding="utf-8"), Loader=_tolerant_loader(yaml))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise SubmissionsError(f"cannot read {metadata} ({error}): export the submissions "
                               "from Gradescope again") from error
    if not isinstance(data, dict):
        raise SubmissionsError(f"{metadata} is not a mapping of submission_<id> entries: "
                               "export the submissions from Gradescope again")
    return {str(key): _submitters(entry) for key, entry in data.items()}


def _tolerant_loader(yaml):
    """A ``SafeLoader`` that reads Ruby-style tags (``!ruby/object:...``) as plain
    data instead of failing; it still builds no Python objects from tags."""
    class TolerantLoader(yaml.SafeLoader):
        pass

    def plain(loader, node):
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    TolerantLoader.add_constructor(None, plain)
    return TolerantLoader


def _submitters(entry: object) -> tuple[Submitter, ...]:
    if not isinstance(entry, dict):
        return ()
    people = _get(entry, "submitters")
    if not isinstance(people, list):
        return ()
    return tuple(Submitter(name=_text(_get(person, "name")), email=_text(_get(person, "email")),
                           sid=_text(_get(person, "sid")))
                 for person in people if isinstance(person, dict))


def _get(mapping: dict, key: str) -> object:
    """Gradescope writes Ruby symbols as keys (``:name``); accept ``name`` too."""
    return mapping.get(f":{key}", mapping.get(key))


def _text(value: object) -> str:
    return "" if value is None else str(value)


# ---------------------------------------------------------------- one submission

def _from_zip(sub_id: str, archive: Path, workdir: Path) -> Submission:
    destination = _fresh_dir(workdir, sub_id)
    problem = _extract(archive, destination)
    if problem:
        return Submission(sub_id, archive, {}, (), UNREADABLE, problem)
    return _from_folder(sub_id, archive, destination)


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
    return files, problems + _hints(folder, found, files)


def _from_folder(sub_id: str, source: Path, folder: Path) -> Submission:
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
    hints = _hints(folder, found, files)
    readable, unreadable, empty = _read_sources(folder, files)
    if readable or any(name in files for name in student_file_names()):
        ignored = [f"{path} is ignored: it {reason}" for path, reason in unreadable]
        return Submission(sub_id, source, files, (), OK, "; ".join(hints + ignored))
    if unreadable:
        return Submission(sub_id, source, {}, (), UNREADABLE, "nothing could be graded: " +
                          "; ".join(f"{path} {reason}" for path, reason in unreadable))
    names = student_file_names()
    problem = "; ".join(hints + [f"{path} holds no code (an empty notebook counts as "
                                 "nothing handed in)" for path in empty]) or (
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


def _scan(folder: Path) -> _Found:
    """Walk ``folder``: exact student file names, notebooks and other scripts (but
    the kit's own files and folders), near-miss names, and the folders that could not
    be read."""
    found = _Found()
    wanted, kit = student_file_names(), kit_file_names()
    near_miss = _near_miss(wanted)
    for current, dirs, names in os.walk(folder, onerror=lambda error: found.errors.append(
            str(error.filename or error))):
        dirs[:] = sorted(d for d in dirs if not _ignored(d) and not _kit_folder(Path(current, d)))
        for name in names:
            if _ignored(name):
                continue
            path = Path(current, name)
            if name in wanted:
                found.copies.setdefault(name, []).append(path)
                continue
            if match := near_miss.match(name):
                found.near_misses.setdefault(f"{match['base'].lower()}.py", []).append(path)
            if name.lower().endswith(SOURCE_SUFFIXES) and name not in kit \
                    and not path.is_symlink():
                found.sources.setdefault(name, []).append(path)
    return found


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

def _extract(archive: Path, destination: Path) -> str:
    """Extract ``archive`` into ``destination``; return a problem sentence, or ""."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            for entry in zipped.infolist():
                problem = _unsafe_entry(archive, entry)
                if problem:
                    return problem
            zipped.extractall(destination)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            OSError) as error:
        return (f"{archive.name} is not a readable zip ({type(error).__name__}: {error}): "
                "ask the student to zip the files again")
    return ""


def _unsafe_entry(archive: Path, entry: zipfile.ZipInfo) -> str:
    name = entry.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in name.split("/"):
        return (f"{archive.name} contains '{entry.filename}', a path outside the zip's own "
                "folder: not extracted; open it by hand and check it")
    if entry.file_size > MAX_ENTRY_BYTES:
        return (f"{archive.name} contains '{entry.filename}' of {entry.file_size:,} bytes "
                f"uncompressed (limit {MAX_ENTRY_BYTES:,}): not extracted; open it by hand")
    return ""


def _fresh_dir(workdir: Path, name: str) -> Path:
    """A new, empty folder under ``workdir`` (never an existing one)."""
    workdir.mkdir(parents=True, exist_ok=True)
    prefix = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60] + "-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=workdir))


def _check_workdir_outside(folder: Path, workdir: Path) -> None:
    if workdir.resolve().is_relative_to(folder.resolve()):
        raise SubmissionsError(f"the work folder {workdir} is inside the submissions folder "
                               f"{folder}: choose a work folder elsewhere")


def _visible_entries(folder: Path) -> list[Path]:
    try:
        return sorted(entry for entry in folder.iterdir() if not _ignored(entry.name))
    except OSError as error:
        raise SubmissionsError(f"cannot list {folder} ({error}): check its permissions") from error


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in IGNORED_NAMES
