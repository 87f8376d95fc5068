"""The HTML a bulk run writes (grader/instructor/reports/feedback.py): a feedback page per
submission and the class index, checked against the JSON results they come from and
in a real browser (headless Chromium, where installed)."""

import csv
import html
import io
import json
import re
import shutil
from collections import Counter
from html.parser import HTMLParser

import pytest
from browser import Browser, BrowserError, find_chromium
from test_bulk import bulk, mixed_submissions

from helpers import ROOT, make_submission

SCRIPT = "<script>alert('gotcha')</script><b>bold</b> & <img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("feedback")
    folder = mixed_submissions(base)
    make_submission(folder / "mallory", {"models.py": f"print({SCRIPT!r})"})
    # carol's syntax error again, further down: the same kind of failure, another number
    make_submission(folder / "carl", {"models.py": "\n" * 5 + "def broken(:\n    pass"})
    olga = folder / "olga"                                  # the earlier handout's files
    olga.mkdir()
    shutil.copy(ROOT / "tests" / "reference_models_only" / "models.py", olga / "models.py")
    out = base / "out"
    process = bulk("bulk", folder, "--out", out, "-q", "q1,q2", "--jobs", "2",
                   "--save-plots")
    assert process.returncode == 0, process.stdout + process.stderr
    return folder, out, process


class Checks(HTMLParser):
    """The data-* attributes of every check on a page, and the links."""

    def __init__(self):
        super().__init__()
        self.checks, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and "data-check" in attrs:
            self.checks.append((attrs["data-question"], attrs["data-check"],
                                attrs["data-status"], float(attrs["data-points"]),
                                float(attrs["data-max"])))
        if tag == "a" and attrs.get("href", "").startswith("feedback/"):
            self.links.append(attrs["href"])


def parsed(path):
    parser = Checks()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_submission_gets_a_page_with_its_checks_as_the_json_has_them(graded):
    _, out, process = graded
    results = sorted((out / "results").glob("*.json"))
    pages = sorted((out / "feedback").glob("*.html"))
    assert [p.stem for p in pages] == [r.stem for r in results] and len(pages) == 10
    for path in results:
        record = json.loads(path.read_text())
        page = parsed(out / "feedback" / f"{path.stem}.html")
        text = (out / "feedback" / f"{path.stem}.html").read_text()
        if record["status"] != "graded":
            assert page.checks == [] and record["status"] in text
            continue
        expected = [(t["question"], t["check"], t["status"], float(t["points"]),
                     float(t["max"])) for t in record["result"]["tests"]]
        assert page.checks == expected, path.stem
        assert f"Seed: {record['seed']}" in text and record["grader_version"] in text
    alice = (out / "feedback" / "alice.html").read_text()
    assert alice.count('<img src="data:image/png;base64,') == 2    # q1's and q2's key figure
    assert "feedback pages in" in process.stdout


def test_what_students_wrote_is_shown_as_text(graded):
    _, out, _ = graded
    page = (out / "feedback" / "mallory.html").read_text()
    assert "<script>alert" not in page and "<b>bold" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&#39;gotcha&#39;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &amp;" in page


def test_the_index_links_every_page_and_sums_up_the_class(graded):
    _, out, _ = graded
    index = out / "index.html"
    links = parsed(index).links
    for page in (out / "feedback").glob("*.html"):
        assert f"feedback/{page.name}" in links
    assert all((out / link).is_file() for link in links)
    text = index.read_text()
    for status in ("unreadable", "no-files"):
        assert re.search(rf'class="badge {status}">{status}</span> <a href="feedback/', text)
    # Each kind of failure, counted over the JSON results, is on the index.
    from grader.instructor.reports.feedback import COMMON_FAILURES, failure_kind
    kinds = Counter()
    for path in (out / "results").glob("*.json"):
        record = json.loads(path.read_text())
        for test in (record.get("result") or {}).get("tests", []) if \
                record["status"] == "graded" else []:
            if test["status"] != "passed":
                title = test["name"].split(": ", 1)[1]
                message = "\n".join(line for line in test["message"].splitlines()
                                    if not line.startswith("Hint:"))
                kinds[test["question"], title, failure_kind(message)] += 1
    assert kinds["q1", "PerceptronModel: weights, scores and predictions",
                 "models.py has a syntax error (models.py, line #): invalid syntax"] == 2
    for question in ("q1", "q2"):    # those above the cut (ties at it may go either way)
        counts = sorted((n for k, n in kinds.items() if k[0] == question), reverse=True)
        cutoff = counts[COMMON_FAILURES] if len(counts) > COMMON_FAILURES else 0
        for (q, title, kind), count in kinds.items():
            if q == question and count > cutoff:
                row = (f'<td class="num">{count}</td><td>{html.escape(title)}</td>'
                       f'<td>{html.escape(kind)}</td>')
                assert row in text, row
    assert "1 submission(s) look like another course version" in text


def test_other_course_versions_are_graded_as_the_class_and_flagged(graded):
    _, out, process = graded
    assert ("Grading every submission as current (the version 7 of 8 readable submissions "
            "match; give --course to choose another); 1 look like models-only-q6"
            in process.stderr)
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(
        (out / "grades.csv").read_text()))}
    assert rows["olga"]["recognised_as"] == "models-only-q6"
    assert rows["olga"]["course"] == rows["alice"]["course"] == "current"
    assert rows["alice"]["recognised_as"] == ""


def test_merge_writes_the_pages_too(graded, tmp_path):
    _, out, _ = graded
    merged = tmp_path / "merged"
    process = bulk("merge", out, "--out", merged, "--feedback-figures", "none")
    assert process.returncode == 0, process.stderr
    assert sorted(p.name for p in (merged / "feedback").iterdir()) == sorted(
        p.name for p in (out / "feedback").iterdir())
    assert "data:image/png" not in (merged / "feedback" / "alice.html").read_text()
    assert (merged / "plots" / "alice" / "q1.png").is_file()


def test_failures_are_grouped_without_their_numbers():
    from grader.instructor.reports.feedback import failure_kind
    assert failure_kind("accuracy 91.2% on 5000 digits (required: 97%)\nHint: x") == \
        failure_kind("accuracy 88.0% on 5,000 digits (required: 97%)") == \
        "accuracy # on # digits (required: #)"


def test_summary_counts_are_whole_numbers():
    from grader.instructor.reports.grades import summary_figure
    figure = summary_figure({"totals": [1, 2, 2, 7], "pass_rates": {"q1": 0.5}}, 10)
    ticks = figure.axes[0].get_yticks()
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks


@pytest.mark.skipif(find_chromium() is None,
                    reason="needs Chromium (Debian: apt-get install chromium; .ci/run does)")
def test_the_pages_work_in_a_browser(graded):
    _, out, _ = graded
    try:
        with Browser() as browser:
            index = browser.open(out / "index.html")
            assert index.evaluate("document.images.length") == 1
            assert index.evaluate("Array.from(document.images).every("
                                  "i => i.complete && i.naturalWidth > 0)")
            column = index.evaluate(
                "Array.from(document.querySelectorAll('#submissions th'))"
                ".findIndex(h => h.textContent.trim() === 'Total')")
            totals = ("Array.from(document.querySelectorAll('#submissions tbody tr'))"
                      f".map(r => r.cells[{column}].textContent.trim())")
            header = f"document.querySelectorAll('#submissions th')[{column}]"
            index.evaluate(f"{header}.click()")
            ascending = index.evaluate(totals)
            numbers = [float(t) for t in ascending if t]
            assert numbers == sorted(numbers) and numbers[0] < numbers[-1], ascending
            assert all(ascending[:len(numbers)]), "blanks (not graded) sort last"
            index.evaluate(f"{header}.click()")
            descending = [float(t) for t in index.evaluate(totals) if t]
            assert descending == sorted(numbers, reverse=True) and descending[0] > descending[-1]
            assert index.errors == []

            page = browser.open(out / "feedback" / "mallory.html")
            assert page.evaluate("document.images.length") == 2
            assert page.evaluate("Array.from(document.images).every("
                                 "i => i.complete && i.naturalWidth > 0)")
            shown = page.evaluate("document.querySelector('pre.output').textContent")
            assert SCRIPT in shown, "the student's output is shown as text"
            assert page.evaluate("document.querySelectorAll('script').length") == 0
            assert page.errors == []
    except BrowserError as error:   # Chromium itself failed to start: say so
        pytest.fail(f"headless Chromium did not work: {error}")
