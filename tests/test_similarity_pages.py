"""The similarity report's pages (grader/instructor/similarity/pages.py), drawn from a
hand-made Comparison, and ``bulk --similarity``: ranked pairs, the histogram, a
side-by-side page per flagged pair-file with exactly the matching lines highlighted,
everything a student wrote escaped, the index's link, and the pages in a real browser
(headless Chromium, where installed)."""

import base64
import json
import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from browser import Browser, BrowserError, find_chromium
from helpers import ROOT, make_submission

from grader.instructor.reports import grades
from grader.instructor.similarity import pages as similarity_pages
from grader.instructor.similarity.results import Code, Comparison, PairFile, Region

SCRIPT = "<script>alert(1)</script>"
ALICE = "\n".join([
    "import torch",
    "class Net(torch.nn.Module):",                      # region 1: a 2-4, b 5-7
    "    def forward(self, x):",
    f"        return x  # {SCRIPT}",
    "",
    "x = 1 & 2",
    "",
    "def loss(a, b):",                                  # region 2: a 8-9, b 1-2
    "    return (a - b) ** 2  # <b>bold</b>",
    "print('</script>')",
]) + "\n"
BOB = "\n".join([
    "def loss(p, q):",
    "    return (p - q) ** 2  # <b>bold</b>",
    "",
    "import torch",
    "class Model(torch.nn.Module):",
    "    def forward(self, inputs):",
    f"        return inputs  # {SCRIPT}",
    "y = 'a & b'",
]) + "\n"
ARCHIVE = "archive:2023/carl"
ODD = "eve<b>&amp;</b>"       # an id with markup in it (folder names may hold anything)


def comparison() -> Comparison:
    pairs = [
        PairFile("alice", "bob", "models.py", 0.9, 0.75, 3, True,
                 (Region(2, 4, 5, 7), Region(8, 9, 1, 2))),
        PairFile("bob", ARCHIVE, "models.py", 0.3, 0.25, 2, False, (Region(1, 2, 1, 2),)),
        PairFile(ODD, "alice", "train.py", 0.1, 0.05, 1, False),
    ]
    code = {("alice", "models.py"): Code("alice", "models.py", ALICE,
                                         "hw.ipynb -> models.py", "cells 3 and 5"),
            ("bob", "models.py"): Code("bob", "models.py", BOB, "models.py"),
            (ARCHIVE, "models.py"): Code(ARCHIVE, "models.py", BOB)}
    return Comparison(pairs=pairs, code=code, archive={ARCHIVE}, threshold=0.5,
                      best={"alice": 0.9, "bob": 0.9, ODD: 0.1, "dave": 0.0},
                      notes=["dave: train.py is not UTF-8 text: skipped",
                             "erin: models.py is 3 MB & <i>generated</i>: truncated to 1 MB"],
                      files=("models.py", "train.py"))


class Cells(HTMLParser):
    """The code cells (``td.code``) of the table with id ``table`` (of every table when
    None): (attributes, text)."""

    def __init__(self, table: str):
        super().__init__(convert_charrefs=True)
        self.table, self.inside, self.depth = table, table is None, 0
        self.cells: list[tuple[dict, str]] = []
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.depth += self.inside
            self.inside = self.inside or attrs.get("id") == self.table
        if self.inside and tag == "td" and "code" in (attrs.get("class") or "").split():
            self._cell = (attrs, [])

    def handle_endtag(self, tag):
        if tag == "td" and self._cell:
            self.cells.append((self._cell[0], "".join(self._cell[1])))
            self._cell = None
        if tag == "table" and self.inside:
            self.inside = self.depth > 0
            self.depth = max(0, self.depth - 1)

    def handle_data(self, data):
        if self._cell:
            self._cell[1].append(data)


def code_cells(page: str, table: str | None = "both") -> list[tuple[dict, str]]:
    parser = Cells(table)
    parser.feed(page)
    return parser.cells


@pytest.fixture
def written(tmp_path):
    out = tmp_path / "out"
    return out, similarity_pages.write_pages(out, comparison())


def test_the_report_ranks_the_pairs_links_the_flagged_and_escapes(written):
    out, pages = written
    assert pages[0] == out / "similarity.html"
    assert pages[1:] == [out / "similarity" / "alice--bob--models.py.html"]
    page = pages[0].read_text(encoding="utf-8")
    body = page.split('<table id="pairs">')[1].split("</table>")[0]
    ranked = re.findall(r'<td class="num">(\d+)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*'
                        r"<td>(.*?)</td>", body)
    assert [(rank, file) for rank, _, _, file in ranked] == [
        ("1", "models.py"), ("2", "models.py"), ("3", "train.py")]
    assert ranked[0][1:3] == ("alice", "bob")
    assert 'archive:2023/carl <span class="badge archive">archive</span>' in ranked[1][2]
    assert ranked[2][1] == "eve&lt;b&gt;&amp;amp;&lt;/b&gt;", "an id is shown as text"
    assert re.findall(r'href="(similarity/[^"]+)"', page) == [
        "similarity/alice--bob--models.py.html"], "only the flagged pair has a page"
    assert '<td class="num">90%</td><td class="num">75%</td>' in body
    assert "Threshold: 50%" in page and "never changes a grade" in page
    assert "erin: models.py is 3 MB &amp; &lt;i&gt;generated&lt;/i&gt;" in page
    assert "<i>" not in page and "<b>" not in page and "<script" not in page
    image = re.search(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert image and base64.b64decode(image.group(1)).startswith(b"\x89PNG")


def test_the_histogram_counts_students_not_the_archive():
    figure = similarity_pages.histogram_figure(
        sorted(similarity_pages.best_scores(comparison()).values()), 0.5)
    heights = [patch.get_height() for patch in figure.axes[0].patches]
    assert sum(heights) == 4                      # alice, bob, eve, dave; not carl
    assert heights[-2] == 2 and heights[0] == 1   # 90% twice; 0% once (5-point bins)


def test_the_pair_page_highlights_exactly_the_regions_on_both_sides(written):
    out, pages = written
    page = pages[1].read_text(encoding="utf-8")
    cells = code_cells(page)
    for side, text in (("a", ALICE), ("b", BOB)):
        shown = [(int(attrs["data-line"]), content) for attrs, content in cells
                 if attrs.get("data-side") == side]
        assert shown == list(enumerate(text.splitlines(), 1)), f"side {side} whole, in order"
    highlighted = {side: {int(attrs["data-line"]) for attrs, _ in cells
                          if attrs.get("data-side") == side and "hl" in attrs["class"].split()}
                   for side in "ab"}
    assert highlighted == {"a": {2, 3, 4, 8, 9}, "b": {5, 6, 7, 1, 2}}
    # Region 1 is in the same order on both sides: it starts on one row, one colour.
    row = re.search(r'<tr id="r1" class="start">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'data-side="(\w)" data-line="(\d+)"', row) == [("a", "2"), ("b", "5")]
    assert re.findall(r'class="code hl (c\d)"', row) == ["c0", "c0"]
    # Region 2 comes first in b: marked in place on each side, and shown apart.
    assert 'id="a-r2"' in page and 'id="b-r2"' in page and '<h3 id="r2">' in page
    apart = code_cells(page.split('<h3 id="r2">')[1], table=None)
    assert [(a["data-side"], a["data-line"]) for a, _ in apart] == [
        ("a", "8"), ("b", "1"), ("a", "9"), ("b", "2")]
    assert 'href="#r1"' in page and 'href="#r2"' in page
    # Everything the students wrote is text.
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "x = 1 &amp; 2" in page
    assert "<script" not in page and "<b>" not in page
    assert "hw.ipynb -&gt; models.py" in page and "cells 3 and 5" in page
    assert "never changes a grade" in page


def test_regions_outside_the_code_are_left_out_and_names_stay_apart(tmp_path):
    weird = Comparison(pairs=[
        PairFile("a b", "c", "models.py", 1.0, 1.0, 9, True,
                 (Region(1, 2, 1, 2), Region(40, 50, 1, 1), Region(3, 1, 1, 1))),
        PairFile("a_b", "c", "models.py", 1.0, 1.0, 9, True),
        PairFile("x" * 300, "c", "models.py", 1.0, 1.0, 9, True)],
        code={("a b", "models.py"): Code("a b", "models.py", "one\r\ntwo\r\n"),
              ("c", "models.py"): Code("c", "models.py", "one\ntwo\n")})
    pages = similarity_pages.write_pages(tmp_path, weird)
    names = [path.name for path in pages[1:]]
    assert len(set(names)) == 3 and all(len(name) < 200 for name in names), names
    first = pages[1].read_text(encoding="utf-8")
    assert "2 more regions lay outside the code shown" in first
    assert [text for _, text in code_cells(first)] == ["one", "one", "two", "two"]
    second = pages[2].read_text(encoding="utf-8")
    assert "the code compared was not kept for this page" in second
    # A pair no longer flagged loses its page on the next report.
    calm = Comparison(pairs=[PairFile("a b", "c", "models.py", 0.1, 0.1, 1, False)],
                      code={}, threshold=0.5)
    assert similarity_pages.write_pages(tmp_path, calm) == [tmp_path / "similarity.html"]
    assert list((tmp_path / "similarity").glob("*.html")) == []


def test_a_threshold_that_flags_too_many_keeps_the_report_small(tmp_path, monkeypatch):
    monkeypatch.setattr(similarity_pages, "MAX_ROWS", 2)
    monkeypatch.setattr(similarity_pages, "MAX_PAGES", 1)
    many = comparison()
    many.pairs = [PairFile("alice", "bob", "models.py", 0.9, 0.75, 3, True),
                  PairFile("alice", "bob", "train.py", 0.8, 0.7, 3, True),
                  PairFile("bob", ARCHIVE, "models.py", 0.7, 0.6, 2, True)]
    pages = similarity_pages.write_pages(tmp_path, many)
    assert [path.name for path in pages[1:]] == ["alice--bob--models.py.html"]
    page = pages[0].read_text(encoding="utf-8")
    assert page.count('<tr class="flagged">') == 2 and page.count("side by side</a>") == 1
    assert "1 more pair-files with smaller shares are in similarity.csv" in page
    assert "2 more flagged pair-files have no side-by-side page" in page


def test_the_index_links_the_report_and_keeps_the_link_when_rebuilt(tmp_path):
    out = tmp_path / "out"
    record = {"id": "gina", "status": "no-files", "result": None, "problem": "no files",
              "submitters": [], "files": []}
    (out / "results").mkdir(parents=True)
    (out / "results" / "gina.json").write_text(json.dumps(record), encoding="utf-8")
    grades.rebuild_reports(out)
    assert 'href="similarity.html"' not in (out / "index.html").read_text(encoding="utf-8")
    similarity_pages.write_pages(out, comparison())
    assert 'href="similarity.html"' in (out / "index.html").read_text(encoding="utf-8")
    assert 'href="index.html"' in (out / "similarity.html").read_text(encoding="utf-8")
    grades.rebuild_reports(out)        # as merge or the next bulk run does
    assert 'href="similarity.html"' in (out / "index.html").read_text(encoding="utf-8")


# ------------------------------------------------------------ bulk --similarity

def run_bulk(*args) -> int:
    from grader.instructor.commands.main import main
    return main(["bulk", *map(str, args)])


@pytest.fixture
def fake_engine(monkeypatch):
    """Stands in for the comparison (report.comparison_of): records what
    bulk gave it and returns the hand-made comparison."""
    from grader.instructor.similarity import report
    calls = []

    def comparison_of(submissions, assignment, archives, threshold, work):
        calls.append({"ids": sorted(s.id for s in submissions), "course": assignment.name,
                      "archives": archives, "threshold": threshold})
        return comparison()

    monkeypatch.setattr(report, "comparison_of", comparison_of)
    return calls


def test_bulk_similarity_writes_the_report_after_grading(tmp_path, fake_engine, capsys):
    folder = tmp_path / "submissions"
    for name in ("gina", "hank"):
        (folder / name).mkdir(parents=True)     # nothing to grade: no-files, at once
    archive = tmp_path / "archive"
    archive.mkdir()
    out = tmp_path / "out"
    assert run_bulk(folder, "--out", out, "--course", "current", "--similarity",
                    "--similarity-threshold", "0.8", "--archive", archive) == 0
    assert fake_engine == [{"ids": ["gina", "hank"], "course": "current",
                            "archives": [archive], "threshold": 0.8}]
    assert (out / "grades.csv").is_file() and (out / "similarity.csv").is_file()
    assert (out / "similarity" / "alice--bob--models.py.html").is_file()
    assert 'href="similarity.html"' in (out / "index.html").read_text(encoding="utf-8")
    said = capsys.readouterr().out
    assert "similarity: 1 pair-files flagged at 80%" in said and "no grade changes" in said


@pytest.mark.parametrize("flags, message", [
    (["--similarity", "--shard", "1/2"], "run `python -m grader similarity SUBMISSIONS "
                                         "--out MERGED`"),
    (["--similarity", "--similarity-threshold", "50"], "between 0 and 1 (0.5 is half); got 50"),
    (["--archive", "."], "--archive and --similarity-threshold go with --similarity"),
    (["--similarity", "--archive", "no-such-folder"], "--archive no-such-folder: there is no "
                                                      "such folder"),
])
def test_bulk_refuses_similarity_options_before_grading(tmp_path, fake_engine, capsys,
                                                        flags, message):
    (tmp_path / "subs" / "gina").mkdir(parents=True)
    assert run_bulk(tmp_path / "subs", "--out", tmp_path / "out", *flags) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "results").exists() and fake_engine == []


def test_bulk_similarity_with_the_real_engine(tmp_path, capsys):
    folder = tmp_path / "submissions"
    make_submission(folder / "ann")
    make_submission(folder / "ben")
    out = tmp_path / "out"
    assert run_bulk(folder, "--out", out, "-q", "q1", "--jobs", "2", "--similarity") == 0
    assert (out / "similarity.csv").is_file()
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert re.search(r'href="similarity/ann--ben--[^"]+\.html"', page), "the copy is flagged"
    assert 'href="similarity.html"' in (out / "index.html").read_text(encoding="utf-8")


# ------------------------------------------------------------ in a browser

@pytest.mark.skipif(find_chromium() is None,
                    reason="needs Chromium (Debian: apt-get install chromium; .ci/run does)")
def test_the_pages_work_in_a_browser(written, tmp_path):
    out, pages = written
    # SIMILARITY_SHOTS=/some/folder keeps the screenshots (for a person to look at).
    shots = Path(os.environ.get("SIMILARITY_SHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    try:
        with Browser(width=1300, height=900) as browser:
            report = browser.open(pages[0])
            assert report.evaluate("Array.from(document.images).every("
                                   "i => i.complete && i.naturalWidth > 0)")
            assert report.evaluate("document.images.length") == 1
            assert report.evaluate("document.querySelectorAll('script').length") == 0
            assert report.errors == []
            (shots / "similarity.png").write_bytes(report.screenshot())

            pair = browser.open(pages[1])
            assert pair.evaluate("document.querySelectorAll('script').length") == 0
            tops = pair.evaluate(
                "Array.from(document.querySelectorAll('#r1 td.code'))"
                ".map(c => c.getBoundingClientRect().top)")
            assert len(tops) == 2 and tops[0] == tops[1], "region 1 starts on one row"
            shown = pair.evaluate("document.querySelector('#both').textContent")
            assert SCRIPT in shown and "<b>bold</b>" in shown, "the code is shown as text"
            for anchor in ("r1", "r2", "a-r2", "b-r2"):
                assert pair.evaluate(f"document.getElementById('{anchor}') !== null"), anchor
            assert pair.errors == []
            (shots / "pair.png").write_bytes(pair.screenshot())
            assert (shots / "pair.png").read_bytes().startswith(b"\x89PNG")
    except BrowserError as error:   # Chromium itself failed to start: say so
        pytest.fail(f"headless Chromium did not work: {error}")
