"""q3g of "depth-width": the convolutional network under a parameter budget, trained
for exactly 10 epochs of batch size 32. Its limits and accuracy are judged as the
other networks' (networks.py); this module adds the training check: the epochs and
the batch size counted from the batches training called ``backward()`` on, an epoch
being a pass over the images those batches hold (a student who holds some of
train_data out for validation trains on fewer than its 60,000)."""

from __future__ import annotations

from grader.assignments.depth_width.questions import networks
from grader.checks.training import EpochCount
from grader.core.wiring import Definition

QUESTION = Definition()
QUESTION.probes()(networks.make_probes)
QUESTION.step("limits", budgeted=True, reads=networks.LIMITS)(networks.limits)
QUESTION.verdict("limits", reads=networks.LIMITS)(networks.judge_limits)
QUESTION.verdict("accuracy", reads=(*networks.LIMITS, "min_accuracy"))(networks.judge_accuracy)


@QUESTION.step("accuracy", reads=networks.LIMITS)
def accuracy(ctx, record):
    """As the other networks' accuracy step, counting the distinct images trained on."""
    networks.train_and_predict(ctx, record, count_rows=True)


@QUESTION.step("training")
def training(ctx, record):
    """Nothing more to run: the training check reads what the accuracy step saw."""


@QUESTION.verdict("training", reads=("epochs", "batch_size"))
def judge_training(v):
    result = v.step("accuracy")
    if result is None or not result.ok:
        return v.failed("not checked: the model was not trained (see above)")
    sizes = [int(size) for size in result.values.get("batch_sizes") or []]
    epochs, batch = v.settings["epochs"], v.settings["batch_size"]
    if not sizes:
        return v.failed("train_model never called backward() on a loss: no training was seen")
    wrong = sorted({size for size in sizes if size != batch})
    # Only an epoch's last batch may be smaller (when the data does not divide evenly).
    if wrong and not (len(wrong) == 1 and wrong[0] < batch and sizes.count(wrong[0]) <= epochs):
        return v.failed(f"train_model trained on batches of {', '.join(map(str, wrong[:3]))} "
                        f"images; the problem asks for batches of {batch}")
    count = EpochCount(sizes, result.values.get("trained_rows"),
                       int(result.values.get("training_items") or 1))
    if count.images < count.dataset_size:
        over = f"the {count.images:,} images it trained on (of the {count.dataset_size:,} " \
               "in train_data)"
    else:
        over = f"the {count.images:,} images of train_data"
    if not count.exact(epochs, batch):
        changing = ("; the images given to the model changed from one epoch to the next "
                    "(random changes to them?), so each pass is counted as all of train_data"
                    if count.changing_inputs else "")
        return v.failed(f"train_model trained for {count.epochs:g} epochs ({len(sizes)} "
                        f"batches, {count.seen:,} images over {over}{changing}); the problem "
                        f"asks for exactly {epochs} epochs of batch size {batch}")
    return v.passed(f"{epochs} epochs of batches of {batch} over {over} ({len(sizes)} "
                    "training steps)")
