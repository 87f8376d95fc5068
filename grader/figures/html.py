"""Figures inside Gradescope's results.json, within its size limit.

Gradescope renders a test whose ``output_format`` is ``"html"`` as HTML, so a test
can carry a picture as ``<img src="data:image/png;base64,...">``; its text then goes
inside ``<pre>``, escaped. results.json must stay under RESULTS_LIMIT bytes, so each
picture gets an equal share of what the text leaves: a PNG over its share is first
reduced to a 256-colour palette, then scaled down, and left out (with a sentence
saying so) when even that does not fit.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from pathlib import Path

RESULTS_LIMIT = 1_000_000       # bytes: what we promise results.json stays under
# What write_gradescope fills at most: grader/instructor/grading/gradescope.py adds a header to the
# run's output afterwards (names, the files graded), and that must fit too.
EMBED_BUDGET = 900_000
# Downscaled pictures narrower than this are unreadable: leave them out instead.
MIN_WIDTH = 320
# Pillow's Image.Quantize.FASTOCTREE, by number so that older Pillow versions work:
# quick even on photographs, and plots lose nothing visible.
FAST_OCTREE = 2
IMAGE_TAG = re.compile(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]*"[^>]*>')


def document_size(document: dict) -> int:
    """Bytes of ``document`` written as the result writers write it."""
    return len((json.dumps(document, indent=2) + "\n").encode("utf-8"))


def html_output(text: str, png: bytes | None = None, caption: str = "",
                note: str = "") -> str:
    """A test's output as HTML: the escaped text in <pre>, then the picture (or a
    note saying why there is none)."""
    parts = [f"<pre>{html.escape(text)}</pre>"]
    if png is not None:
        encoded = base64.b64encode(png).decode("ascii")
        parts.append(f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(caption)}"'
                     ' style="max-width:100%">')
    if note:
        parts.append(f"<p><em>{html.escape(note)}</em></p>")
    return "\n".join(parts)


def _encoded_size(png: bytes) -> int:
    return 4 * ((len(png) + 2) // 3)


def png_within(path: Path, limit: int) -> bytes | None:
    """The PNG at ``path``, as is or made smaller (a 256-colour palette, then half
    and a third of the size), whose base64 text fits in ``limit`` characters;
    None if no version fits or the file cannot be read."""
    try:
        original = Path(path).read_bytes()
    except OSError:
        return None
    if _encoded_size(original) <= limit:
        return original
    try:   # Pillow comes with matplotlib; without it, only pictures that fit as is go in
        from PIL import Image
        with Image.open(io.BytesIO(original)) as opened:
            image = opened.convert("RGB")
    except Exception:  # noqa: BLE001 - an unreadable picture is left out, not fatal
        return None
    for scale in (1.0, 0.7, 0.5, 0.35):
        width, height = round(image.width * scale), round(image.height * scale)
        if scale < 1.0 and width < MIN_WIDTH:
            break
        smaller = image if scale == 1.0 else image.resize(
            (width, height), getattr(Image, "Resampling", Image).LANCZOS)
        buffer = io.BytesIO()
        smaller.quantize(256, method=FAST_OCTREE).save(buffer, format="PNG")
        if _encoded_size(buffer.getvalue()) <= limit:
            return buffer.getvalue()
    return None


def embed_figures(document: dict, figures: list[tuple[dict, str, Path]],
                  limit: int = EMBED_BUDGET) -> None:
    """Turn each test in ``figures`` (test entry of ``document``, caption, PNG path)
    into HTML output carrying its picture, keeping ``document`` under ``limit``
    bytes. Pictures that do not fit are left out with a note."""
    texts = []
    for test, _, _ in figures:
        texts.append(str(test.get("output", "")))
        test["output_format"] = "html"
        test["output"] = html_output(texts[-1])
    for position, ((test, caption, path), text) in enumerate(zip(figures, texts)):
        left = limit - document_size(document)
        # The tag and JSON's escaping of its quotes cost a little beyond the base64.
        share = left // (len(figures) - position) - 200
        png = png_within(path, share) if share > 0 else None
        if png is None:
            test["output"] = html_output(text, note=f"(the figure {Path(path).name} is not "
                                                    "shown here: results.json has a size limit)")
        else:
            test["output"] = html_output(text, png, caption)
    if document_size(document) > limit:   # never expected; the limit is a promise
        strip_images(document)


def strip_images(document: dict) -> bool:
    """Remove every inline picture from the tests' outputs; True if any was there."""
    removed = False
    for test in document.get("tests", []):
        output = test.get("output")
        if isinstance(output, str) and IMAGE_TAG.search(output):
            test["output"] = IMAGE_TAG.sub("<p><em>(figure removed: results.json has a size "
                                           "limit)</em></p>", output)
            removed = True
    return removed
