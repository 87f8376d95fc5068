"""Fingerprints of Python code that survive disguise, as MOSS takes them.

``tokens(text)`` reads code as Python's tokenizer does (a regular expression stands
in when the code is too broken for it) and normalises it: every identifier becomes
``V``, every number ``N``, every string ``S``; keywords, operators and punctuation
stay; comments, blank lines, line breaks inside brackets, indentation and statements
that are only a string (docstrings, the skeleton's ``"*** YOUR CODE HERE ***"``) are
dropped; each statement ends in ``;``. Renamed variables, changed constants,
comments and reformatting therefore change nothing.

``fingerprints(text)`` hashes every run of ``K`` consecutive tokens (a k-gram) and
keeps, by winnowing (Schleimer, Wilkerson and Aiken, 2003), the smallest hash of
every window of ``W`` consecutive k-grams: any stretch of at least ``K + W - 1``
tokens two files share yields at least one fingerprint both hold, and fingerprints
are compared as sets, so reordered functions still match. Each fingerprint keeps
the lines its k-gram spans, to show the match.

Hashes are a polynomial over the tokens' CRC-32, in 64-bit arithmetic: the same on
every run and machine (Python's ``hash`` of a string is not).
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
import zlib
from dataclasses import dataclass

import numpy as np

K = 16   # tokens per k-gram: about two lines of code, once names are V
W = 8    # k-grams per window: a shared run of K + W - 1 = 23 tokens is always found

_DROPPED = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
_KEYWORDS = frozenset(keyword.kwlist)
_END = ";"

# The fallback: comments, strings (with prefixes, triple-quoted first), names,
# numbers, newlines, operators; anything else (a stray byte) is skipped.
_FALLBACK = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>(?:[rRbBuUfF]{0,2})(?:'''[\s\S]*?(?:'''|\Z)|\"\"\"[\s\S]*?(?:\"\"\"|\Z)
                |'(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?))
  | (?P<name>[^\W\d]\w*)
  | (?P<number>\d[\w.]*|\.\d[\w]*)
  | (?P<newline>\n)
  | (?P<op>\*\*=|//=|>>=|<<=|->|:=|==|!=|<=|>=|\*\*|//|<<|>>|[-+*/%@&|^]=|\.\.\.
          |[-+*/%@&|^~<>=.,:;()\[\]{}!])
""", re.VERBOSE)


@dataclass(frozen=True)
class Prints:
    """The fingerprints of one text: ``hashes[i]`` was chosen at token ``positions[i]``;
    its k-gram spans lines ``first[i]..last[i]`` (1-based). ``tokens`` counts the
    text's normalised tokens; ``fallback`` says the regular expression read it."""
    hashes: np.ndarray      # int64
    positions: np.ndarray   # int64
    first: np.ndarray       # int32
    last: np.ndarray        # int32
    tokens: int
    own: int = 0            # tokens outside every k-gram the skeleton holds
    fallback: bool = False

    def without(self, drop: np.ndarray) -> "Prints":
        """These prints less those whose hash is in ``drop`` (a sorted int64 array)."""
        if not len(drop) or not len(self.hashes):
            return self
        keep = ~np.isin(self.hashes, drop)
        return Prints(self.hashes[keep], self.positions[keep], self.first[keep],
                      self.last[keep], self.tokens, self.own, self.fallback)


def tokens(text: str) -> tuple[list[str], list[int], bool]:
    """The normalised tokens of ``text`` and the line of each; True when the
    tokenizer failed on it and the regular expression read it instead."""
    try:
        raw = [(tok.type, tok.string, tok.start[0]) for tok in
               tokenize.generate_tokens(io.StringIO(text).readline)
               if tok.type not in _DROPPED]
        fallback = False
    except (tokenize.TokenError, SyntaxError, ValueError):
        raw, fallback = _fallback_tokens(text), True
    words, lines = [], []
    for statement in _statements(raw):
        if all(kind == tokenize.STRING for kind, _, _ in statement[:-1]) and \
                statement[-1][0] == tokenize.NEWLINE:
            continue                  # a docstring or any other bare string
        for kind, string, line in statement:
            words.append(_normalise(kind, string))
            lines.append(line)
    return words, lines, fallback


def _normalise(kind: int, string: str) -> str:
    if kind == tokenize.NAME:
        return string if string in _KEYWORDS else "V"
    if kind == tokenize.NUMBER:
        return "N"
    if kind == tokenize.STRING:
        return "S"
    if kind == tokenize.NEWLINE or string == ";":
        return _END
    return string


def _statements(raw: list) -> list[list]:
    """``raw`` cut after every NEWLINE (the last piece may lack one)."""
    found, current = [], []
    for item in raw:
        current.append(item)
        if item[0] == tokenize.NEWLINE:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def _fallback_tokens(text: str) -> list[tuple[int, str, int]]:
    """Tokens as (type, string, line) by regular expression: newlines inside brackets
    are dropped, as the tokenizer drops them."""
    found, line, depth = [], 1, 0
    for match in _FALLBACK.finditer(text):
        kind, string = match.lastgroup, match.group()
        if kind == "newline":
            if depth == 0 and found and found[-1][0] != tokenize.NEWLINE:
                found.append((tokenize.NEWLINE, "\n", line))
        elif kind == "string":
            found.append((tokenize.STRING, string, line))
        elif kind == "name":
            found.append((tokenize.NAME, string, line))
        elif kind == "number":
            found.append((tokenize.NUMBER, string, line))
        elif kind == "op":
            depth = max(0, depth + (string in "([{") - (string in ")]}"))
            found.append((tokenize.OP, string, line))
        line += string.count("\n")
    return found


def kgram_hashes(words: list[str]) -> np.ndarray:
    """The hash of every k-gram of ``words`` (int64; empty when fewer than K)."""
    if len(words) < K:
        return np.zeros(0, dtype=np.int64)
    ids = np.array([zlib.crc32(word.encode()) for word in words], dtype=np.uint64)
    count = len(ids) - K + 1
    total = np.zeros(count, dtype=np.uint64)
    base = np.uint64(1_000_003)
    with np.errstate(over="ignore"):        # wrapping is the hash's modulus, 2**64
        for offset in range(K):
            total = total * base + ids[offset:offset + count]
    return total.view(np.int64)


def winnow(hashes: np.ndarray) -> np.ndarray:
    """The positions winnowing keeps: the rightmost smallest hash of each window of W
    (every k-gram of a text shorter than one window is one window)."""
    if len(hashes) == 0:
        return np.zeros(0, dtype=np.int64)
    width = min(W, len(hashes))
    windows = np.lib.stride_tricks.sliding_window_view(hashes, width)
    rightmost = width - 1 - np.argmin(windows[:, ::-1], axis=1)
    chosen = rightmost + np.arange(len(windows))
    return np.unique(chosen)


def fingerprints(text: str, skeleton: np.ndarray | None = None) -> Prints:
    """The winnowed fingerprints of ``text`` (see the module's docstring), less those
    whose hash is among ``skeleton``'s (sorted k-gram hashes, ``all_hashes``)."""
    words, lines, fallback = tokens(text)
    hashes = kgram_hashes(words)
    own = len(words)
    if skeleton is not None and len(skeleton) and len(hashes):
        given = np.isin(hashes, skeleton).astype(np.int32)       # (k-grams,)
        covered = np.convolve(given, np.ones(K, dtype=np.int32))[:len(words)] > 0
        own = int(len(words) - covered.sum())                      # tokens no k-gram covers
    chosen = winnow(hashes)
    line_array = np.array(lines, dtype=np.int32)
    empty = np.zeros(0, dtype=np.int32)
    prints = Prints(hashes[chosen], chosen, line_array[chosen] if len(chosen) else empty,
                    line_array[chosen + K - 1] if len(chosen) else empty, len(words), own,
                    fallback)
    return prints.without(skeleton) if skeleton is not None else prints


def all_hashes(text: str) -> np.ndarray:
    """Every k-gram hash of ``text``, sorted and unique (a skeleton's: all of them
    are removed, not only those winnowing would keep)."""
    return np.unique(kgram_hashes(tokens(text)[0]))
