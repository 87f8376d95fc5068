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


FUNCTIONAL_RELU = """
class QuadrantNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden1, self.hidden2 = nn.Linear(2, 16), nn.Linear(16, 16)
        self.output = nn.Linear(16, 4)

    def forward(self, x):
        x = torch.relu(self.hidden1(x))
        x = nn.functional.relu(self.hidden2(x))
        return self.output(x)
"""


def test_a_summary_says_when_activations_are_no_modules(tmp_path):
    student = solution_with(FIRST, tmp_path / "s", {"quadrants.py": FUNCTIONAL_RELU})
    _, results = grade_json(tmp_path, student, "-q", "q2")
    assert points_by_test(results)["q2: QuadrantNet: two hidden layers, four outputs"] == 1
    assert "Linear(2, 16), Linear(16, 16), Linear(16, 4) (no activation modules: " \
           "activations, if any, are applied in forward): 2 hidden layers, 4 outputs" \
        in messages(results, "q2")


def linear(size_in: int, size_out: int, custom: bool = False) -> dict:
    return {"name": "", "type": "Linear", "parameters": 0, "custom": custom,
            "in_features": size_in, "out_features": size_out}


def test_the_note_is_left_out_where_an_activation_may_be_a_module():
    from grader.checks.model_tree import summary
    relu = {"name": "1", "type": "ReLU", "parameters": 0, "custom": False}
    block = {"name": "1", "type": "Block", "parameters": 0, "custom": True}
    assert summary([linear(2, 16), relu, linear(16, 4)]) == "Linear(2, 16), ReLU, Linear(16, 4)"
    assert summary([linear(2, 16), block, linear(16, 4)]) == \
        "Linear(2, 16), Block, Linear(16, 4)"
    assert summary([linear(2, 16, custom=True)]) == "Linear(2, 16)"
    assert summary([]) == "no layers"
    assert summary([linear(2, 4)]).endswith("(no activation modules: activations, if any, "
                                            "are applied in forward)")


def depth_width_verdict(question_id: str, key: str, step_key: str, values: dict):
    """The verdict of check ``key`` of depth-width's ``question_id``, on a step
    ``step_key`` that recorded ``values``."""
    from types import SimpleNamespace

    from grader import assignments
    from grader.core.wiring import SettingsView, VerdictInput, load_definition
    question = next(q for q in assignments.get("depth-width").questions
                    if q.id == question_id)
    check = next(c for c in question.checks if c.key == key)
    verdict = load_definition(question.module).verdicts[key]
    step = SimpleNamespace(ok=True, values=values, seconds=1.0)
    outcome = SimpleNamespace(step=lambda asked: step if asked == step_key else None)
    return verdict.function(VerdictInput(
        question, check, outcome, {}, {}, None,
        SettingsView(question.thresholds, verdict.reads, "test")))


def conv(size_in: int, size_out: int) -> dict:
    return {"name": "0", "type": "Conv2d", "parameters": 80, "custom": False,
            "in_channels": size_in, "out_channels": size_out, "kernel_size": [3, 3]}


def plain(kind: str) -> dict:
    return {"name": "1", "type": kind, "parameters": 0, "custom": False}


def test_the_cnn_summary_counts_parameters_and_no_hidden_units():
    layers = [conv(1, 8), plain("BatchNorm2d"), plain("ReLU"), plain("Flatten"),
              plain("Dropout"), linear(8 * 28 * 28, 10)]
    cnn = depth_width_verdict("q3g", "limits", "limits", {
        "layers": layers, "parameters": 62_826, "sequential": True})
    assert cnn.points == 6
    assert cnn.message.endswith("Linear(6272, 10): 62,826 parameters"), cnn.message
    assert "hidden unit" not in cnn.message
    dense = depth_width_verdict("q2c", "limits", "limits", {
        "layers": [plain("Flatten"), linear(784, 100), plain("ReLU"), linear(100, 10)],
        "parameters": 79_510, "sequential": True})
    assert dense.points == 3
    assert "100 hidden units in 1 hidden layer(s), 79,510 parameters" in dense.message


# ----------------------------------------------- depth-width 3G: epochs over what is trained

IMAGES, BATCH = 60_000, 32


def digits(count: int = IMAGES, width: int = 8):
    """``count`` distinct stand-in images, one float32 row each (the counting reads
    bytes, so a short row does as well as 784 pixels and is faster)."""
    import numpy as np
    rows = np.random.default_rng(0).random((count, width), dtype=np.float32)
    rows[:, 0] = np.arange(count, dtype=np.float32)           # no two alike
    return rows


def stream(images, indices, epochs: int, batch: int, drop_last: bool = False, seed: int = 1):
    """The batches a shuffling DataLoader over ``images[indices]`` gives in ``epochs``."""
    import numpy as np
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(indices)
        stop = len(order) - len(order) % batch if drop_last else len(order)
        for start in range(0, stop, batch):
            yield images[order[start:start + batch]]


def counted(batches):
    from grader.checks.training import EpochCount, TrainedRows
    rows, sizes = TrainedRows(), []
    for batch in batches:
        rows.add(batch)
        sizes.append(len(batch))
    return EpochCount(sizes, rows.recurrence(), IMAGES), sizes, rows.recurrence()


def test_ten_epochs_over_a_55000_image_split_are_ten_epochs():
    import numpy as np
    images = digits()
    kept = np.random.default_rng(2).permutation(IMAGES)[:55_000]     # random_split's 55,000
    count, sizes, _ = counted(stream(images, kept, 10, BATCH))
    assert count.images == 55_000 and count.epochs == 10 and count.exact(10, BATCH)
    assert len(sizes) == 10 * 1719 and sizes.count(55_000 % BATCH) == 10
    nine, _, _ = counted(stream(images, kept, 9, BATCH))
    assert nine.epochs == 9 and not nine.exact(10, BATCH)
    dropped, _, _ = counted(stream(images, kept, 10, BATCH, drop_last=True))
    assert dropped.exact(10, BATCH) and not dropped.exact(9, BATCH)


def test_nine_epochs_over_all_and_one_batch_too_many_are_caught():
    images = digits()
    nine, _, _ = counted(stream(images, range(IMAGES), 9, BATCH))
    assert nine.images == IMAGES and nine.epochs == 9 and not nine.exact(10, BATCH)
    ten, _, _ = counted(stream(images, range(IMAGES), 10, BATCH))
    assert ten.exact(10, BATCH)
    extra, _, _ = counted([*stream(images, range(IMAGES), 10, BATCH), images[:BATCH]])
    assert not extra.exact(10, BATCH) and round(extra.epochs, 4) == 10.0005


def test_inputs_that_change_every_epoch_are_counted_over_train_data():
    import numpy as np
    images, noise = digits(), np.random.default_rng(3)
    augmented = (batch + noise.random(batch.shape, dtype=np.float32)
                 for batch in stream(images, range(IMAGES), 10, BATCH))
    count, _, _ = counted(augmented)
    assert count.changing_inputs and count.images == IMAGES and count.exact(10, BATCH)
    from grader.checks.training import EpochCount
    assert EpochCount([BATCH] * 1875 * 10, None, IMAGES).exact(10, BATCH)
    ignored = EpochCount([BATCH] * 1875 * 10, [[10, 5]], IMAGES)   # does not add up
    assert ignored.images == IMAGES and ignored.exact(10, BATCH)


def test_identical_images_count_once_per_copy():
    import numpy as np
    images = digits()
    images[1] = images[0]                                  # one digit twice in the data
    count, _, recurrence = counted(stream(images, range(IMAGES), 10, BATCH))
    assert recurrence == [[10, IMAGES - 2], [20, 1]]
    assert count.exact(10, BATCH) and not count.exact(20, BATCH)
    nine, _, _ = counted(stream(images, np.arange(IMAGES), 9, BATCH))
    assert not nine.exact(10, BATCH)


def training_check(batches):
    count, sizes, recurrence = counted(batches)
    return depth_width_verdict("q3g", "training", "accuracy", {
        "batch_sizes": sizes, "training_items": IMAGES, "trained_rows": recurrence})


def test_the_training_check_counts_over_the_split_and_still_catches_wrong_counts():
    import numpy as np
    images = digits()
    kept = np.random.default_rng(4).permutation(IMAGES)[:55_000]
    split = training_check(stream(images, kept, 10, BATCH))
    assert split.points == 4
    assert split.message == ("10 epochs of batches of 32 over the 55,000 images it trained "
                             "on (of the 60,000 in train_data) (17190 training steps)")
    nine = training_check(stream(images, range(IMAGES), 9, BATCH))
    assert nine.points == 0 and "train_model trained for 9 epochs (16875 batches, 540,000 " \
        "images over the 60,000 images of train_data); the problem asks for exactly 10 " \
        "epochs of batch size 32" in nine.message
    wide = training_check(stream(images, range(IMAGES), 10, 64))
    assert wide.points == 0 and "trained on batches of 64 images; the problem asks for " \
        "batches of 32" in wide.message


def test_the_sandbox_counts_the_rows_of_back_propagated_batches_only():
    import torch
    from torch.utils.data import DataLoader, Subset, TensorDataset, random_split

    from grader.assignments.depth_width.questions.networks import TrainingBatches
    from grader.checks.training import EpochCount, TrainedRows
    images = torch.from_numpy(digits(600, width=4))
    labels = torch.zeros(600, dtype=torch.long)
    everything = TensorDataset(images, labels)
    part, held_out = random_split(everything, [550, 50], torch.Generator().manual_seed(0))
    copied = TensorDataset(images[part.indices].clone(), labels[part.indices].clone())
    for trained in (part, Subset(everything, part.indices), copied):
        model = torch.nn.Linear(4, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        rows = TrainedRows()
        with TrainingBatches(model, rows) as batches:
            for _ in range(3):
                for x, y in DataLoader(trained, batch_size=BATCH, shuffle=True):
                    optimizer.zero_grad()
                    torch.nn.functional.cross_entropy(model(x), y).backward()
                    optimizer.step()
                with torch.no_grad():                      # validation: no training step
                    model(torch.stack([held_out[i][0] for i in range(len(held_out))]))
        count = EpochCount(batches.sizes, rows.recurrence(), len(everything))
        assert rows.recurrence() == [[3, 550]] and count.exact(3, BATCH), type(trained)
