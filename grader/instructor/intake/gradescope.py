"""Gradescope's "Export Submissions": a folder (or a .zip of it) holding
``submission_metadata.yml`` and one ``submission_<id>/`` folder per submission, with
the submitters' names, emails and ids in the metadata."""

from __future__ import annotations

from pathlib import Path

from grader.instructor.common.submission import Submission, SubmissionsError, Submitter
from grader.instructor.intake.files import from_folder, visible_entries

NAME = "gradescope"
METADATA_FILE = "submission_metadata.yml"
MAX_METADATA_BYTES = 64 * 2**20     # a class of thousands writes a few MB


def locate(folder: Path) -> Path | None:
    """The folder holding ``submission_metadata.yml``: ``folder`` itself or its only
    subfolder (exports zipped with one extra top folder); ``None`` if neither."""
    if (folder / METADATA_FILE).is_file():
        return folder
    entries = visible_entries(folder)
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / METADATA_FILE).is_file():
        return entries[0]
    return None


def required(root: Path, given: Path) -> Path:
    """``locate``'s folder, for ``--layout gradescope``; raises ``SubmissionsError``
    when ``root`` is not an export."""
    found = locate(root)
    if found is None:
        raise SubmissionsError(f"--layout gradescope: {given} has no {METADATA_FILE}: give "
                               "Gradescope's 'Export Submissions', or another --layout")
    return found


def collect(root: Path, shown: Path, workdir: Path) -> tuple[list[Submission], list[str]]:
    """Every ``submission_<id>`` folder of the export in ``root``, with its submitters;
    no notes."""
    return _submissions(root), []


def _submissions(root: Path) -> list[Submission]:
    submitters = _read_metadata(root / METADATA_FILE)
    submissions = []
    for folder in visible_entries(root):
        if folder.is_dir() and folder.name.startswith("submission_"):
            sub_id = folder.name[len("submission_"):]
            found = from_folder(sub_id, folder, folder)
            submissions.append(Submission(found.id, found.source, found.files,
                                          submitters.get(folder.name, ()),
                                          found.status, found.problem))
    return sorted(submissions, key=lambda sub: sub.id)


def _read_metadata(metadata: Path) -> dict[str, tuple[Submitter, ...]]:
    """``submission_<id>`` -> its submitters, from Gradescope's metadata file."""
    try:
        import yaml
    except ImportError as error:
        raise SubmissionsError("reading Gradescope's submission_metadata.yml needs PyYAML: "
                               "install it with: python -m pip install PyYAML") from error
    try:
        size = metadata.stat().st_size
        if size > MAX_METADATA_BYTES:
            raise SubmissionsError(f"{metadata} is {size:,} bytes (limit "
                                   f"{MAX_METADATA_BYTES:,}), far more than Gradescope writes "
                                   "for a class: export the submissions from Gradescope again")
        data = yaml.load(metadata.read_text(encoding="utf-8"), Loader=_tolerant_loader(yaml))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise SubmissionsError(f"cannot read {metadata} ({error}): export the submissions "
                               "from Gradescope again") from error
    except (RecursionError, MemoryError):
        raise SubmissionsError(f"cannot read {metadata}: it is nested too deeply or too "
                               "large to read; export the submissions from Gradescope "
                               "again") from None
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
    """A name, email or id: a scalar as text; anything else (a list, a mapping, which
    YAML's aliases could make vast) is no name at all."""
    return str(value) if isinstance(value, (str, int, float)) else ""


