"""What a similarity comparison found, as plain values: the engine
(``engine.py``) returns a ``Comparison`` and the pages (``pages.py``)
draw one, so that either can change without the other.

Nothing here, nor anything about similarity, ever changes a grade: it is evidence
for a person to read.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Code:
    """The student-written code of one file of one submission (or archive entry):
    ``text`` is what was compared (a notebook's kept code after extraction, see
    core/handed_in.py), ``shown_as`` where it came from ("models.py",
    "hw.ipynb -> networks.py"); ``note`` says what was skipped or truncated."""
    owner: str            # the submission's id, or "archive:<name>/<id>"
    file: str             # the expected file name ("models.py")
    text: str
    shown_as: str = ""
    note: str = ""


@dataclass(frozen=True)
class Region:
    """One matching stretch: lines ``a_first..a_last`` of side a match lines
    ``b_first..b_last`` of side b (1-based, inclusive, in ``Code.text``)."""
    a_first: int
    a_last: int
    b_first: int
    b_last: int


@dataclass(frozen=True)
class PairFile:
    """One file of one pair: ``share_a`` is the share of a's fingerprints (less the
    skeleton's) found in b, ``share_b`` the reverse, each in [0, 1];
    ``longest`` the longest matching run in lines; ``flagged`` when the larger share
    reaches the threshold."""
    a: str
    b: str
    file: str
    share_a: float
    share_b: float
    longest: int
    flagged: bool
    regions: tuple[Region, ...] = ()

    @property
    def score(self) -> float:
        return max(self.share_a, self.share_b)


@dataclass
class Comparison:
    """Everything a report needs: every pair-file with any match (``pairs``, ranked,
    highest score first), the code compared (``code[(owner, file)]``), the archive's
    owners (never compared among themselves), the threshold, each student's best
    score (``best``: 0 for one who matches nobody), and notes (skipped, truncated)."""
    pairs: list[PairFile]
    code: dict[tuple[str, str], Code]
    archive: set[str] = field(default_factory=set)
    threshold: float = 0.5
    best: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files: tuple[str, ...] = ()
