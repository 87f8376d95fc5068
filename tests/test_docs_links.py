"""Every relative link and image in the docs leads somewhere: the file exists, and a
``#anchor`` names a heading of the page it points at (GitHub's rule: lower case,
punctuation but '-' and '_' removed, spaces as '-', a repeated heading gets -1, -2)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", ROOT / "grader" / "README.md",
                *(ROOT / "docs").glob("*.md")])

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
INLINE_CODE = re.compile(r"(`+).+?\1", re.DOTALL)
# [text](target "title") and ![alt](target); the target may sit in <...>
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
HTML_TARGET = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=\"([^\"]+)\"", re.IGNORECASE)


def without_fences(text: str) -> str:
    """The page with its fenced code blocks blanked (the line count stays)."""
    kept, fence = [], ""
    for line in text.split("\n"):
        opener = FENCE.match(line)
        if fence:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence) \
                    and not line.strip()[len(opener.group(1)):]:
                fence = ""
            kept.append("")
        elif opener:
            fence = opener.group(1)
            kept.append("")
        else:
            kept.append(line)
    return "\n".join(kept)


def prose(text: str) -> str:
    """The page without code blocks and inline code, where a [x](y) is only text."""
    return INLINE_CODE.sub("", without_fences(text))


def github_anchor(heading: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # a link's text stays
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found, seen = set(), {}
    text = without_fences(page.read_text(encoding="utf-8"))   # a heading's `code` counts
    for match in re.finditer(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", text, re.MULTILINE):
        base = github_anchor(match.group(1))
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    found.update(re.findall(r"<a\s[^>]*\b(?:name|id)=\"([^\"]+)\"", text))
    return found


def links(page: Path) -> list[str]:
    text = prose(page.read_text(encoding="utf-8"))
    found = [m.group(1).strip("<>") for m in LINK.finditer(text)]
    found += REFERENCE.findall(text) + HTML_TARGET.findall(text)
    return [target for target in found
            if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target)]   # http:, mailto: ...


def broken_links(page: Path) -> list[str]:
    """What is wrong with each relative link of page ([] when every one resolves)."""
    problems = []
    for target in links(page):
        path, _, fragment = target.partition("#")
        where = (page.parent / path.split("?")[0]).resolve() if path else page
        if not where.exists():
            problems.append(f"{target}: {path} does not exist")
        elif fragment and where.suffix == ".md" and fragment not in anchors(where):
            problems.append(f"{target}: {where.name} has no heading with the anchor "
                            f"#{fragment} (its anchors: {', '.join(sorted(anchors(where)))})")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page):
    assert not broken_links(page), f"{page.relative_to(ROOT)}: broken links:\n" + \
        "\n".join(broken_links(page))


def test_the_pages_have_links_to_check():
    assert any(links(page) for page in PAGES)


def test_a_missing_file_or_heading_is_caught(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## bulk_throughput.py\n\n"
                                       "```\n## not a heading\n```\n")
    (tmp_path / "pic.png").write_bytes(b"")
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n## Two words\n\n"
                    "[ok](other.md#bulk_throughputpy) ![ok](pic.png) [ok](#two-words) "
                    "[web](https://example.org/x.md) `[code](nowhere.md)`\n"
                    "[gone](missing.md) ![gone](missing.png) [bad](other.md#not-a-heading) "
                    "[bad](#two_words)\n")
    assert [problem.split(":")[0] for problem in broken_links(page)] == \
        ["missing.md", "missing.png", "other.md#not-a-heading", "#two_words"]


def test_the_anchor_rule_is_githubs():
    assert github_anchor("bulk_throughput.py") == "bulk_throughputpy"
    assert github_anchor("On a Slurm cluster") == "on-a-slurm-cluster"
    assert github_anchor("Handing in a notebook or one script") == \
        "handing-in-a-notebook-or-one-script"
    assert github_anchor("`--isolation`: what each mode enforces") == \
        "--isolation-what-each-mode-enforces"
