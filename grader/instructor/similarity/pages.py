"""The similarity report's HTML, drawn from a ``Comparison`` (results.py):

    OUTDIR/similarity.html                  the pairs ranked by shared code, a histogram
                                            of each student's best score, the threshold,
                                            what was skipped or truncated, and a link to
                                            each flagged pair's page
    OUTDIR/similarity/<a>--<b>--<file>.html one flagged pair-file: both sides in two
                                            columns, each matching region in its own
                                            colour and number on both sides, matching
                                            regions starting on the same row

Like the feedback pages (grader/instructor/reports/feedback.py), each page is self-contained (styles and the
figure inline, no script, no network: it opens from disk) and comes from a Jinja2
template with autoescaping on, so student code reaches the page as text.
Nothing here changes a grade: the pages are evidence for a person to read.
"""

from __future__ import annotations

import base64
import hashlib
import io
from itertools import zip_longest
from pathlib import Path

from grader.figures.drawing import BLUE, VERMILLION, new_figure
from grader.instructor.common.submission import safe_name
from grader.instructor.reports import feedback
from grader.instructor.reports.grades import rebuild_index
from grader.instructor.similarity.results import Code, Comparison, PairFile, Region
from grader.judge.report import atomic_write

PAGE = feedback.SIMILARITY_PAGE
PAIR_FOLDER = "similarity"
# Rows of the ranked table, the highest first (a class of 500 has over 100,000
# pairs; similarity.csv holds them all), and side-by-side pages, for the highest
# flagged pair-files (a threshold set too low flags thousands: about 10 ms a page).
MAX_ROWS = 1000
MAX_PAGES = 500
# Regions drawn on a pair's page (the longest, when an engine reports more).
MAX_REGIONS = 200
COLOURS = 8           # region colours, cycled (the number beside each tells them apart)
NAME_LIMIT = 150      # characters of a pair page's file name before a digest shortens it
HISTOGRAM_BINS = 20


def write_pages(out: Path, comparison: Comparison) -> list[Path]:
    """Write similarity.html and one page per flagged pair-file into ``out``, then
    re-render index.html (where ``out`` holds a bulk run's results) so that it links
    similarity.html. Returns the pages written, similarity.html first."""
    env = feedback.environment()
    env.filters["share"] = share_text
    folder = out / PAIR_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    ranked = sorted(comparison.pairs, key=lambda pair: -pair.score)   # stable: engine's order
    paged = [pair for pair in ranked if pair.flagged][:MAX_PAGES]
    names = pair_page_names(paged)
    written = []
    pair_template = env.get_template("similarity_pair.html")
    for pair in paged:
        path = folder / names[id(pair)]
        view = pair_view(comparison, pair)
        atomic_write(path, pair_template.render(p=view, threshold=comparison.threshold,
                                                index=(out / "index.html").is_file()))
        written.append(path)
    kept = {path.name for path in written}
    for stale in folder.glob("*.html"):        # pairs no longer flagged
        if stale.name not in kept:
            stale.unlink()
    shown = ranked_rows(ranked, comparison.archive, names)
    students = best_scores(comparison)
    page = env.get_template("similarity.html").render(
        rows=shown, total=len(ranked), flagged=sum(pair.flagged for pair in ranked),
        unpaged=sum(pair.flagged for pair in ranked) - len(paged), max_pages=MAX_PAGES,
        threshold=comparison.threshold, files=comparison.files or tuple(
            dict.fromkeys(pair.file for pair in ranked)),
        students=len(students), archive=sorted(comparison.archive),
        above=sum(score >= comparison.threshold for score in students.values()),
        notes=comparison.notes, histogram=histogram_uri(students, comparison.threshold),
        index=(out / "index.html").is_file(), max_rows=MAX_ROWS)
    atomic_write(out / PAGE, page)
    rebuild_index(out)
    return [out / PAGE, *written]


def share_text(value: float) -> str:
    return f"{100 * value:.0f}%"


# ------------------------------------------------------------ similarity.html

def ranked_rows(ranked: list[PairFile], archive: set[str], names: dict[int, str]) -> list[dict]:
    """The rows of the ranked table: the MAX_ROWS highest pair-files, in rank order;
    a flagged one links its page where it has one."""
    rows = []
    for rank, pair in enumerate(ranked[:MAX_ROWS], 1):
        rows.append({"rank": rank, "a": pair.a, "b": pair.b, "file": pair.file,
                     "a_archive": pair.a in archive, "b_archive": pair.b in archive,
                     "share_a": pair.share_a, "share_b": pair.share_b,
                     "longest": pair.longest, "flagged": pair.flagged,
                     "page": f"{PAIR_FOLDER}/{names[id(pair)]}" if id(pair) in names else ""})
    return rows


def best_scores(comparison: Comparison) -> dict[str, float]:
    """Each student's best score (archive entries are not students)."""
    if comparison.best:
        return {owner: score for owner, score in comparison.best.items()
                if owner not in comparison.archive}
    best = {owner: 0.0 for owner, _ in comparison.code if owner not in comparison.archive}
    for pair in comparison.pairs:
        for owner in (pair.a, pair.b):
            if owner not in comparison.archive:
                best[owner] = max(best.get(owner, 0.0), pair.score)
    return best


def histogram_figure(scores: list[float], threshold: float):
    """How many students have each best score, with the threshold marked."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter
    figure = new_figure(7, 3)
    axes = figure.subplots()
    counts, _, _ = axes.hist([100 * score for score in scores] or [0], bins=HISTOGRAM_BINS,
                             range=(0, 100), color=BLUE, edgecolor="white")
    axes.set_ylim(0, max(1, max(counts)) * 1.3)     # room above the bars for the legend
    axes.axvline(100 * threshold, color=VERMILLION, linestyle="--",
                 label=f"threshold {share_text(threshold)}")
    axes.set(title="Each student's highest share of code found in another submission",
             xlabel="best score (share of the student's fingerprints found elsewhere)",
             ylabel="students", xlim=(0, 100))
    axes.xaxis.set_major_formatter(PercentFormatter())
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="upper center")
    return figure


def histogram_uri(students: dict[str, float], threshold: float) -> str:
    buffer = io.BytesIO()
    histogram_figure(sorted(students.values()), threshold).savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def pair_page_names(flagged: list[PairFile]) -> dict[int, str]:
    """A file name per flagged pair-file, by id(): ``<a>--<b>--<file>.html`` made
    safe (submissions.safe_name), shortened with a digest when long, and made unique
    when two pairs' names only differ in characters that safe_name replaced."""
    names, used = {}, set()
    for pair in flagged:
        stem = "--".join(safe_name(part) for part in (pair.a, pair.b, pair.file))
        digest = hashlib.sha256("\0".join((pair.a, pair.b, pair.file)).encode()).hexdigest()
        if len(stem) > NAME_LIMIT:
            stem = f"{stem[:NAME_LIMIT]}-{digest[:10]}"
        if stem + ".html" in used:
            stem = f"{stem}-{digest[:10]}"
        names[id(pair)] = stem + ".html"
        used.add(stem + ".html")
    return names


# ------------------------------------------------------------ a pair's page

def code_lines(text: str) -> list[str]:
    """A text's lines as the engine numbers them (1-based: line n is [n - 1]),
    split at newlines only; a final newline ends the last line."""
    text = text.encode("utf-8", "replace").decode("utf-8")   # no lone surrogates
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def usable_regions(regions, a_count: int, b_count: int) -> list[tuple[int, Region]]:
    """(number, region) for each region that lies within both texts (clipped to
    them), numbered from 1 in the engine's order; the MAX_REGIONS longest."""
    kept = []
    for region in regions:
        a_first, b_first = max(1, region.a_first), max(1, region.b_first)
        a_last, b_last = min(a_count, region.a_last), min(b_count, region.b_last)
        if a_first <= a_last and b_first <= b_last:
            kept.append(Region(a_first, a_last, b_first, b_last))
    if len(kept) > MAX_REGIONS:
        longest = sorted(kept, key=lambda r: -(r.a_last - r.a_first))[:MAX_REGIONS]
        kept = [region for region in kept if region in longest][:MAX_REGIONS]
    return list(enumerate(kept, 1))


def aligned_chain(numbered: list[tuple[int, Region]]) -> list[tuple[int, Region]]:
    """The regions that can start on the same row on both sides: the set in the same
    order on both sides, not overlapping, with the most lines (the others, such as a
    function moved elsewhere, are shown apart)."""
    ordered = sorted(numbered, key=lambda item: (item[1].a_first, item[1].b_first))
    best, previous = [], []
    for index, (_, region) in enumerate(ordered):
        size = (region.a_last - region.a_first + 1) + (region.b_last - region.b_first + 1)
        best.append(size)
        previous.append(-1)
        for before in range(index):
            other = ordered[before][1]
            if other.a_last < region.a_first and other.b_last < region.b_first \
                    and best[before] + size > best[index]:
                best[index], previous[index] = best[before] + size, before
    if not ordered:
        return []
    index = max(range(len(ordered)), key=lambda i: best[i])
    chain = []
    while index >= 0:
        chain.append(ordered[index])
        index = previous[index]
    return chain[::-1]


def _cell(lines: list[str], number: int | None, marks: dict[int, int], side: str,
          starts: set[int]) -> dict:
    if number is None:
        return {"line": "", "text": "", "region": 0, "anchor": "", "side": side}
    region = marks.get(number, 0)
    return {"line": number, "text": lines[number - 1], "region": region, "side": side,
            "anchor": f"{side}-r{region}" if region and number in starts else ""}


def pair_view(comparison: Comparison, pair: PairFile) -> dict:
    """What a pair's page shows: both codes as rows of a two-column table in which
    the aligned regions start on one row, the regions listed, and those not aligned
    shown again side by side below."""
    sides = {}
    for side, owner in (("a", pair.a), ("b", pair.b)):
        code = comparison.code.get((owner, pair.file)) or Code(owner, pair.file, "")
        sides[side] = {"owner": owner, "archive": owner in comparison.archive,
                       "shown_as": code.shown_as or pair.file, "note": code.note,
                       "missing": (owner, pair.file) not in comparison.code,
                       "lines": code_lines(code.text)}
    a_lines, b_lines = sides["a"]["lines"], sides["b"]["lines"]
    numbered = usable_regions(pair.regions, len(a_lines), len(b_lines))
    a_marks, b_marks = {}, {}
    for number, region in numbered:    # an overlapped line shows its first region
        for line in range(region.a_first, region.a_last + 1):
            a_marks.setdefault(line, number)
        for line in range(region.b_first, region.b_last + 1):
            b_marks.setdefault(line, number)
    a_starts = {region.a_first for _, region in numbered}
    b_starts = {region.b_first for _, region in numbered}
    chain = aligned_chain(numbered)
    rows, a_next, b_next = [], 1, 1

    def add(a_range, b_range, anchor=""):
        for a_number, b_number in zip_longest(a_range, b_range):
            rows.append({"anchor": anchor,
                         "a": _cell(a_lines, a_number, a_marks, "a", a_starts),
                         "b": _cell(b_lines, b_number, b_marks, "b", b_starts)})
            anchor = ""

    for number, region in chain:
        add(range(a_next, region.a_first), range(b_next, region.b_first))
        add(range(region.a_first, region.a_last + 1), range(region.b_first, region.b_last + 1),
            anchor=f"r{number}")
        a_next, b_next = region.a_last + 1, region.b_last + 1
    add(range(a_next, len(a_lines) + 1), range(b_next, len(b_lines) + 1))
    aligned = {number for number, _ in chain}
    apart = []
    for number, region in numbered:
        if number in aligned:
            continue
        apart.append({"number": number, "rows": [
            {"a": _cell(a_lines, a, a_marks, "a", set()), "b": _cell(b_lines, b, b_marks, "b", set())}
            for a, b in zip_longest(range(region.a_first, region.a_last + 1),
                                    range(region.b_first, region.b_last + 1))]})
    regions = [{"number": number, "colour": (number - 1) % COLOURS,
                "a": _span(region.a_first, region.a_last),
                "b": _span(region.b_first, region.b_last),
                "lines": min(region.a_last - region.a_first, region.b_last - region.b_first) + 1,
                "aligned": number in aligned} for number, region in numbered]
    return {"a": sides["a"], "b": sides["b"], "file": pair.file, "share_a": pair.share_a,
            "share_b": pair.share_b, "longest": pair.longest, "flagged": pair.flagged,
            "rows": rows, "regions": regions, "apart": apart, "colours": COLOURS,
            "dropped": len(pair.regions) - len(numbered)}


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}\u2013{last}"
