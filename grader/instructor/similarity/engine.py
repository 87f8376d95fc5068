"""Which submissions share code: the engine behind ``python -m grader similarity``.

``student_code(folder, assignment, owner)`` reads, per file the assignment grades,
the code a student wrote: the file handed in, or the module made from their
notebooks and scripts (core/handed_in.py, as the judge makes it). ``compare(codes,
archive_codes, skeletons)`` fingerprints each (tokens.py: names and
literals normalised, k-grams winnowed as MOSS does), removes from every side the
skeleton's k-grams (filling in a blank shares nothing with the next student because
of the skeleton) and, in a class of ``COMMON_MIN_CLASS`` or more, the fingerprints
more than ``COMMON_SHARE`` of the class holds (code everyone writes alike: a
standard training step, the one obvious loss), and scores every pair that shares a
fingerprint, per file: the share of each side's fingerprints found in the other.
An inverted index (hash -> owners, as a sparse product) keeps that to the pairs
that share something, so a class of 500 compares in seconds.

Archive entries (earlier terms, public solutions) are compared with each student,
never with each other. A file with fewer than ``MIN_PRINTS`` fingerprints of its
own (a few lines, once the skeleton is removed) is not compared: what little there
is, everyone writes alike. Nothing here changes a grade.

Why not the copydetect library: it does what this does, with pygments for its
tokens and its own HTML; the project keeps to the standard library and numpy, and
needs the skeleton and class-wide filters, notebooks' made modules and the archive
rule in its own terms, which are most of this file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from grader.core.handed_in import HandedIn, read_submission, skeleton_names
from grader.core.source import PROJECT_FILES
from grader.instructor.similarity.regions import regions_of
from grader.instructor.similarity.results import Code, Comparison, PairFile
from grader.instructor.similarity.tokens import Prints, all_hashes, fingerprints

MAX_BYTES = 1_000_000     # a longer file is compared on its first megabyte, with a note
DEFAULT_THRESHOLD = 0.5   # flagged when one side shares at least half its fingerprints
MIN_PRINTS = 8            # a file with fewer fingerprints of its own is not compared,
MIN_OWN_TOKENS = 40       # ... nor one with fewer tokens (about four lines) of its own
COMMON_MIN_CLASS = 10     # the class-wide filter needs a class of at least this many
COMMON_SHARE = 0.5        # ... and drops fingerprints more than this share of it holds
MAX_PAIRS = 20_000        # pair-files kept for the report, the highest scores
_CHUNK = 4096             # shared hashes per block of the pair product (memory bound)


# ---------------------------------------------------------------- reading code

def student_code(source, assignment, owner: str = "") -> list[Code]:
    """The student-written code of each file ``assignment`` grades, from ``source``
    (a folder, or a mapping file name -> path as ``submissions.discover`` gives).

    Returns one ``Code`` per file found; one with empty ``text`` and a ``note`` for
    a file that cannot be compared (binary, unreadable) and, when nothing at all can
    be read, one such entry saying so. Never raises for what was handed in."""
    if isinstance(source, dict):
        with tempfile.TemporaryDirectory(prefix="similarity-") as scratch:
            folder = Path(scratch)
            for name, path in source.items():
                try:
                    (folder / name).write_bytes(Path(path).read_bytes())
                except OSError:
                    continue
            return _codes(folder, assignment, owner)
    return _codes(Path(source), assignment, owner)


def _codes(folder: Path, assignment, owner: str) -> list[Code]:
    skeletons = read_skeletons(assignment)
    expected = {name: [spelling for n in skeleton_names(text)
                       for spelling in (n, *assignment.name_variants.get(n, ()))]
                for name, text in skeletons.items()}
    ignore = {*PROJECT_FILES, *(Path(m).name for m in assignment.support_modules)}
    try:
        handed_in = read_submission(folder, expected, ignore, skeletons)
    except Exception as error:  # noqa: BLE001 - ours: compare the files as they are
        handed_in = HandedIn()
        problem = f"its notebooks and scripts could not be read ({type(error).__name__})"
    else:
        problem = ""
    codes = []
    for name in skeletons:
        module = handed_in.modules.get(name)
        if module is not None:
            origins = sorted({origin.path for origin in module.chosen.values()})
            text, note = _truncated(module.text)
            codes.append(Code(owner, name, text, f"{', '.join(origins)} -> {name}", note))
        elif (folder / name).is_file():
            codes.append(_read_file(owner, name, folder / name))
    readable = [code for code in codes if code.text.strip()]
    if not readable:
        why = "; ".join(code.note for code in codes if code.note) or problem or (
            f"none of {', '.join(skeletons)} found, and no notebook or script defining "
            "their functions")
        codes.append(Code(owner, "", "", "", f"{owner}: no readable code ({why}); "
                                              "not compared"))
    return codes


def _read_file(owner: str, name: str, path: Path) -> Code:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        return Code(owner, name, "", name, f"{owner}: {name} could not be read "
                                           f"({error.strerror or error}); not compared")
    if b"\0" in data[:8192]:
        return Code(owner, name, "", name, f"{owner}: {name} is a binary file, not "
                                           "Python code; not compared")
    note = ""
    if len(data) > MAX_BYTES:
        data = data[:MAX_BYTES]
        note = f"{owner}: {name} is over {MAX_BYTES // 1_000_000} MB; compared on its first MB"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        if note and error.start >= len(data) - 4:      # a character cut at the limit
            text = data[:error.start].decode("utf-8")
        else:
            text = data.decode("utf-8", errors="replace")
            note = (note + "; " if note else f"{owner}: ") + \
                f"{name} is not UTF-8 text; compared with the undecodable bytes replaced"
    return Code(owner, name, text, name, note)


def _truncated(text: str) -> tuple[str, str]:
    if len(text) <= MAX_BYTES:
        return text, ""
    return text[:MAX_BYTES], f"the made module is over {MAX_BYTES // 1_000_000} MB; " \
                             "compared on its first MB"


def read_skeletons(assignment, root: Path | None = None) -> dict[str, str]:
    """Each expected file's released skeleton text ('' when it cannot be read)."""
    root = root or Path(__file__).resolve().parents[3]
    found = {}
    for student_file in assignment.files:
        try:
            found[student_file.name] = (root / student_file.skeleton).read_text(
                encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            found[student_file.name] = ""
    return found


# ---------------------------------------------------------------- comparing

def compare(codes: list[Code], archive_codes: list[Code], skeletons: dict[str, str],
            threshold: float = DEFAULT_THRESHOLD, max_pairs: int = MAX_PAIRS) -> Comparison:
    """Every pair of owners that shares fingerprints, per file, ranked.

    ``codes`` are the students', ``archive_codes`` the archive's (owners named
    "archive:<name>/<id>"); ``skeletons`` each file's released skeleton."""
    archive = {code.owner for code in archive_codes}
    notes = list(dict.fromkeys(code.note for code in [*codes, *archive_codes] if code.note))
    students = sorted({code.owner for code in codes if code.owner})
    kept = {(c.owner, c.file): c for c in [*codes, *archive_codes] if c.file and c.text.strip()}
    files = tuple(dict.fromkeys([*skeletons, *sorted({file for _, file in kept})]))
    found: list[tuple] = []
    prints_of: dict[tuple[str, str], Prints] = {}
    for file in files:
        owners = sorted(owner for owner, f in kept if f == file)
        prints, note = _filtered_prints(file, [kept[o, file] for o in owners],
                                        skeletons.get(file, ""), archive)
        notes += note
        prints_of.update({(o, file): p for o, p in zip(owners, prints) if p is not None})
        found += _shared(file, owners, prints, archive)
    best = dict.fromkeys(students, 0.0)
    for score, a, b, file, *_ in found:
        for owner in (a, b):
            if owner in best:
                best[owner] = max(best[owner], score)
    found.sort(key=lambda item: (-item[0], item[1], item[2], item[3]))
    if len(found) > max_pairs:
        notes.append(f"{len(found) - max_pairs} more pair-files share less than "
                     f"{found[max_pairs - 1][0]:.0%} and are left out of the report")
        found = found[:max_pairs]
    pairs = []
    for score, a, b, file, share_a, share_b in found:
        regions = regions_of(prints_of[a, file], prints_of[b, file])
        longest = max((min(r.a_last - r.a_first, r.b_last - r.b_first) + 1
                       for r in regions), default=0)
        pairs.append(PairFile(a, b, file, share_a, share_b, longest,
                              score >= threshold, tuple(regions)))
    return Comparison(pairs, kept, archive, threshold, best, notes, files)


def _filtered_prints(file: str, codes: list[Code], skeleton: str,
                     archive: set[str]) -> tuple[list[Prints | None], list[str]]:
    """Each code's fingerprints less the skeleton's and the class's common ones;
    None for one with fewer than MIN_PRINTS left."""
    skeleton_hashes = all_hashes(skeleton) if skeleton else np.zeros(0, dtype=np.int64)
    prints = [fingerprints(code.text, skeleton_hashes) for code in codes]
    notes = []
    class_prints = [np.unique(p.hashes) for c, p in zip(codes, prints)
                    if c.owner not in archive]
    if len(class_prints) >= COMMON_MIN_CLASS:
        values, counts = np.unique(np.concatenate(class_prints), return_counts=True)
        common = values[counts > COMMON_SHARE * len(class_prints)]
        prints = [p.without(common) for p in prints]
        if len(common):
            notes.append(f"{file}: {len(common)} fingerprints that more than "
                         f"{COMMON_SHARE:.0%} of the class's {len(class_prints)} "
                         "submissions hold are ignored (code everyone writes alike)")
    small = [c.owner for c, p in zip(codes, prints)
             if p.own < MIN_OWN_TOKENS or len(np.unique(p.hashes)) < MIN_PRINTS]
    if small:
        notes.append(f"{file}: {len(small)} of {len(codes)} have too little code of their "
                     f"own to compare (under {MIN_OWN_TOKENS} tokens or {MIN_PRINTS} "
                     "fingerprints outside the skeleton's code): " + ", ".join(small[:10])
                     + (" ..." if len(small) > 10 else ""))
    return [None if c.owner in small else p for c, p in zip(codes, prints)], notes


def _shared(file: str, owners: list[str], prints: list[Prints | None],
            archive: set[str]) -> list[tuple]:
    """(score, a, b, file, share_a, share_b) for every pair sharing a fingerprint:
    the owners x hashes incidence times its transpose, block by block, over only the
    hashes two or more owners hold."""
    sets = [np.unique(p.hashes) if p is not None else np.zeros(0, dtype=np.int64)
            for p in prints]
    sizes = np.array([len(s) for s in sets], dtype=np.float64)
    if len(owners) < 2 or not sizes.any():
        return []
    rows = np.concatenate([np.full(len(s), i, dtype=np.int32) for i, s in enumerate(sets)])
    hashes = np.concatenate(sets)
    values, column, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    shared = counts[column] >= 2
    rows, column = rows[shared], column[shared]
    _, column = np.unique(column, return_inverse=True)   # 0..number of shared hashes
    together = np.zeros((len(owners), len(owners)), dtype=np.float32)
    for start in range(0, int(column.max(initial=-1)) + 1, _CHUNK):
        inside = (column >= start) & (column < start + _CHUNK)
        block = np.zeros((len(owners), _CHUNK), dtype=np.float32)
        block[rows[inside], column[inside] - start] = 1.0
        together += block @ block.T
    in_archive = np.array([owner in archive for owner in owners])
    together[np.ix_(in_archive, in_archive)] = 0.0
    np.fill_diagonal(together, 0.0)
    found = []
    for i, j in zip(*np.nonzero(np.triu(together))):
        a, b = (j, i) if in_archive[i] else (i, j)
        share_a, share_b = together[i, j] / sizes[a], together[i, j] / sizes[b]
        found.append((float(max(share_a, share_b)), owners[a], owners[b], file,
                      float(share_a), float(share_b)))
    return found
