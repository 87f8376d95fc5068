"""q3 of "first networks": standardising MNIST with the training set's statistics.

``standardize(train_images, test_images)`` returns both sets scaled so that the
training set has mean 0 and standard deviation 1, the test set scaled the same way
("as we do not want to cheat": its own statistics are never used). Both readings of
"mean 0 and standard deviation 1" the practical allows pass: over all the training
pixels at once, or pixel by pixel (a pixel that never changes then stays 0).

The sandbox calls it three times on images the judge chose: (train, test); (train,
other test images), whose training output must not change; and (train, the first
training images as test images), whose test output must equal their training output.
The judge does the arithmetic, the training output's invariance first: statistics
pooled over both sets miss mean 0 and standard deviation 1 by little, which says less
than "the training images changed when only the test images did".
"""

from __future__ import annotations

import numpy as np

from grader.checks.values import as_numbers
from grader.core.source import StepFailure
from grader.core.wiring import Definition, Probes

QUESTION = Definition()
MODULE, FUNCTION = "mnist_linear", "standardize"
CALLS = ("given", "other_test", "train_as_test")


@QUESTION.probes(reads=("train_images", "test_images", "repeated_images"))
def make_probes(rng: np.random.Generator, data, settings) -> Probes:
    mnist = data.arrays("mnist.npz")
    rows = rng.permutation(len(mnist["train_images"]))
    train_rows = rows[:settings["train_images"]]
    test_rows = rows[settings["train_images"]:][:settings["test_images"]]
    flat = mnist["train_images"].reshape(len(mnist["train_images"]), -1)
    train, test = flat[train_rows].astype(np.float32), flat[test_rows].astype(np.float32)
    return Probes(public={"train": train, "test": test,
                          # brighter and lower in contrast: other statistics entirely
                          "other_test": test * np.float32(0.5) + np.float32(40),
                          "train_as_test": train[:settings["repeated_images"]].copy()})


# ------------------------------------------------------------------ sandbox side

@QUESTION.step(FUNCTION, budgeted=True)
def standardize(ctx, record):
    import torch
    function = ctx.lookup(ctx.student(MODULE), FUNCTION)
    for call in CALLS:
        train, test = ctx.probes["train"], ctx.probes[call if call != "given" else "test"]
        given = (torch.from_numpy(train.copy()), torch.from_numpy(test.copy()))
        found = ctx.call(f"{MODULE}.{FUNCTION}", function, *given)
        if found is None or not isinstance(found, (tuple, list)) or len(found) != 2:
            as_numbers(found, f"{MODULE}.{FUNCTION}", function=function)   # None: why
            raise StepFailure("type", f"{MODULE}.{FUNCTION} returned "
                                      f"{type(found).__name__}; expected the pair "
                                      "(standardised train images, standardised test images)")
        record[f"{call}_changed_input"] = not (np.array_equal(given[0].numpy(), train)
                                               and np.array_equal(given[1].numpy(), test))
        for part, value in zip(("train", "test"), found):
            array = as_numbers(value, f"{MODULE}.{FUNCTION}'s {part} images")
            record.save(f"{call}_{part}", array.astype(np.float64))


# -------------------------------------------------------------------- judge side

def standardised(values: np.ndarray, tolerance: float) -> str:
    """'' when ``values`` (images, pixels) have mean 0 and standard deviation 1 over
    all pixels, or pixel by pixel (constant pixels 0); else what they have."""
    mean, std = float(values.mean()), float(values.std())
    if abs(mean) <= tolerance and abs(std - 1) <= tolerance:
        return ""
    means, stds = values.mean(axis=0), values.std(axis=0)
    constant = stds <= tolerance
    if (np.all(np.abs(means) <= tolerance) and np.all(np.abs(stds[~constant] - 1) <= tolerance)
            and np.all(np.abs(values[:, constant]) <= tolerance)):
        return ""
    return f"mean {mean:.4g} and standard deviation {std:.4g} over all pixels"


@QUESTION.verdict(FUNCTION, reads=("tolerance",))
def judge_standardize(v):
    arrays = {f"{call}_{part}": v.outcome.array(FUNCTION, f"{call}_{part}")
              for call in CALLS for part in ("train", "test")}
    result = v.step()
    if result is None or not result.ok or any(array is None for array in arrays.values()):
        return v.missing()
    tolerance = v.settings["tolerance"]
    for call in CALLS:
        given = (v.probes["train"], v.probes[call if call != "given" else "test"])
        for part, image in zip(("train", "test"), given):
            found = arrays[f"{call}_{part}"]
            if found.size != image.size:
                return v.failed(f"standardize returned {part} images of shape {found.shape} "
                                f"for {part} images of shape {image.shape}; keep the shape")
            if not np.isfinite(found).all():
                return v.failed(f"standardize returned NaN or infinite {part} values: is a "
                                "standard deviation of 0 divided by?")
        if result.values.get(f"{call}_changed_input"):
            return v.failed("standardize changed the images it was given (in place): return "
                            "new tensors and leave its arguments as they were")
    train = arrays["given_train"].reshape(len(v.probes["train"]), -1)
    # Invariance first: statistics pooled over both sets are off by little, and the
    # figures alone would read like rounding noise.
    if not np.allclose(arrays["other_test_train"].reshape(train.shape), train,
                       atol=tolerance, rtol=0):
        return v.failed("the training images came out differently when only the test images "
                        "changed: the training set's scaling must depend on the training "
                        "set alone (are the mean and the standard deviation computed over "
                        "the training and test images together?)")
    problem = standardised(train, tolerance)
    if problem:
        return v.failed(f"the standardised training images have {problem}; expected mean 0 "
                        f"and standard deviation 1 within {tolerance:g}, over all pixels or "
                        "pixel by pixel (subtract the training mean, divide by the training "
                        "standard deviation)")
    repeated = len(v.probes["train_as_test"])
    as_test = arrays["train_as_test_test"].reshape(repeated, -1)
    if not np.allclose(as_test, train[:repeated], atol=tolerance, rtol=0):
        test = arrays["given_test"].reshape(len(v.probes["test"]), -1)
        own = " with the test set's own statistics" if not standardised(test, tolerance) \
            else " in another way than the training images"
        return v.failed(f"the test images were standardised{own}: given training images as "
                        "test images, standardize must return them exactly as it returns "
                        "them in the training set. As the practical says, use the mean and "
                        "the standard deviation of the training set for both", metric=0.0)
    return v.passed("the training images have mean 0 and standard deviation 1, and the test "
                    "images are scaled with the training set's statistics")
