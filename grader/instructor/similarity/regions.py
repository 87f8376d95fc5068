"""Matching fingerprints of two files merged into the line ranges a person reads.

A stretch of code two files share yields a chain of fingerprints in the same order
on both sides, each within a window (``W`` k-grams) of the last; ``regions_of``
walks side a's matching fingerprints in order and extends a region while the next
one follows closely on both sides, else starts another. A function moved elsewhere
is its own region; the lines of a region are those its k-grams span on each side.
"""

from __future__ import annotations

import bisect

import numpy as np

from grader.instructor.similarity.results import Region
from grader.instructor.similarity.tokens import K, W, Prints

GAP = K + W   # tokens allowed between two fingerprints of one region, on either side


def regions_of(a: Prints, b: Prints) -> list[Region]:
    """The regions where ``a`` and ``b`` match, in a's order (lines 1-based)."""
    common = np.intersect1d(a.hashes, b.hashes)
    if not len(common):
        return []
    where_b: dict[int, list[int]] = {}
    for index in np.flatnonzero(np.isin(b.hashes, common)):
        where_b.setdefault(int(b.hashes[index]), []).append(index)
    for indexes in where_b.values():
        indexes.sort(key=lambda i: int(b.positions[i]))
    regions, current = [], None     # current: [a indexes, b indexes]
    last_a = last_b = None
    for index in np.flatnonzero(np.isin(a.hashes, common)):
        pos_a = int(a.positions[index])
        candidates = where_b[int(a.hashes[index])]
        if current is not None and pos_a - last_a <= GAP:
            expected = last_b + (pos_a - last_a)
            choice = _nearest(candidates, b.positions, expected)
            if abs(int(b.positions[choice]) - expected) <= GAP:
                current[0].append(index)
                current[1].append(choice)
                last_a, last_b = pos_a, int(b.positions[choice])
                continue
        if current is not None:
            regions.append(current)
        choice = candidates[0]
        current = [[index], [choice]]
        last_a, last_b = pos_a, int(b.positions[choice])
    regions.append(current)
    return [Region(int(a.first[ia].min()), int(a.last[ia].max()),
                   int(b.first[ib].min()), int(b.last[ib].max()))
            for ia, ib in ((np.array(x), np.array(y)) for x, y in regions)]


def _nearest(candidates: list[int], positions: np.ndarray, expected: int) -> int:
    """The candidate (an index into b) whose position is nearest ``expected``."""
    keys = [int(positions[i]) for i in candidates]
    at = bisect.bisect_left(keys, expected)
    near = [candidates[i] for i in (at - 1, at) if 0 <= i < len(candidates)]
    return min(near, key=lambda i: abs(int(positions[i]) - expected))
