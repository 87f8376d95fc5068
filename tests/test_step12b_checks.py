"""Step 12b, the assignment checks: first-networks q3 names pooled statistics before
the figures, its model summary says when activations are no modules, depth-width's
CNN summary leaves hidden units out, and 3G counts epochs over the images trained on."""

from __future__ import annotations

import pytest

from helpers import ROOT, grade_json, messages, points_by_test, solution_with

FIRST = ROOT / "tests" / "reference_first_networks"

POOLED_STATISTICS = """
def standardize(train_images, test_images):
    both = torch.cat([train_images, test_images])
    mean, std = both.mean(), both.std()
    return (train_images - mean) / std, (test_images - mean) / std
"""

PER_PIXEL = """
def standardize(train_images, test_images):
    mean, std = train_images.mean(dim=0), train_images.std(dim=0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return (train_images - mean) / std, (test_images - mean) / std
"""

CENTRED_ONLY = """
def standardize(train_images, test_images):
    mean = train_images.mean()
    return train_images - mean, test_images - mean
"""


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_pooled_statistics_are_named_on_every_seed(tmp_path, seed):
    student = solution_with(FIRST, tmp_path / "s", {"mnist_linear.py": POOLED_STATISTICS})
    _, results = grade_json(tmp_path, student, "-q", "q3", "--seed", str(seed))
    said = messages(results, "q3")
    assert results["total"] == 0
    assert "the training images came out differently when only the test images changed" \
        in said
    assert "computed over the training and test images together?" in said
    assert "standard deviation 1.001" not in said and "have mean" not in said


@pytest.mark.parametrize("variant, points, said", [
    (PER_PIXEL, 2, "the training images have mean 0 and standard deviation 1"),
    (CENTRED_ONLY, 0, "; expected mean 0 and standard deviation 1 within 0.001, over all "
                      "pixels or pixel by pixel"),
], ids=["per pixel passes", "unscaled names the tolerance"])
def test_the_statistics_message_names_its_tolerance(tmp_path, variant, points, said):
    student = solution_with(FIRST, tmp_path / "s", {"mnist_linear.py": variant})
    _, results = grade_json(tmp_path, student, "-q", "q3")
    assert results["total"] == points
    assert said in messages(results, "q3")
