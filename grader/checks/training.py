"""Training the student's model as their own script would (sandbox side): a fresh
model and dataset, the student's training function observed without being changed,
and whether it moved any weight; and the epochs it trained, counted over the images
it trained on (``TrainedRows`` in the sandbox, ``EpochCount`` in the judge)."""

from __future__ import annotations


def build_model_and_dataset(ctx, model_name: str, dataset_name: str,
                            dataset_options: dict | None = None):
    """The student's ``models.<model_name>()`` and
    ``backend.<dataset_name>(model, **dataset_options)``, built fresh.

    Every step builds its own: the model a training step trains has seen nothing
    before (no sanity forward that could move a BatchNorm's statistics), and the
    step's seed is set just before, so training runs exactly as in a student's own
    script that seeds torch, builds the model and the dataset, then trains."""
    import backend
    models = ctx.student("models")
    model = ctx.call(f"models.{model_name}()", ctx.lookup(models, model_name))
    dataset = ctx.call(f"backend.{dataset_name}", getattr(backend, dataset_name), model,
                       **(dataset_options or {}))
    return model, dataset


def train_watched(ctx, record, model, dataset, train_name: str,
                  note_inputs: bool = False) -> None:
    """Run the student's training (``train.<train_name>(model, dataset)``, or the
    model's own ``train(dataset)`` in the earlier handout) with the live plot on (if
    asked for) and progress observed, and record whether training changed any
    weight."""
    label, train_function = ctx.interface.training(ctx, model, train_name)
    before = parameters_snapshot(model)
    with ctx.training(dataset, record, model if note_inputs else None):
        ctx.call(label, train_function, model, dataset)
    record["parameters_changed"] = parameters_changed(model, before)


def parameters_snapshot(model) -> list:
    return [p.detach().clone() for p in model.parameters()]


def parameters_changed(model, before: list) -> bool:
    import torch
    after = list(model.parameters())
    return len(after) != len(before) or any(
        a.shape != b.shape or not torch.equal(a.detach(), b) for a, b in zip(after, before))


def training_notes(values: dict) -> str:
    if values.get("parameters_changed") is False:
        return ("\ntraining did not change any of the model's weights: is the training "
                "function still the skeleton, or is optimizer.step() missing?")
    return ""


# ------------------------------------------------- epochs over the images trained on
#
# An epoch is a pass over the images the student trains on, which need not be all of
# train_data (many hold some out for validation). The sandbox counts how often each
# distinct input row recurs in the batches whose loss is back-propagated, by a short
# digest of its bytes (never the rows themselves); the judge divides the images seen by
# the distinct images. Shuffling, a smaller last batch, random_split, a Subset or a
# copy of the tensors change none of the digests.

ROW_DIGEST_BYTES = 8     # 64 bits: among 60,000 images a collision is about 1e-10 likely
DUPLICATES_SHARE = 0.01  # identical images: at most this share of the distinct ones


class TrainedRows:
    """Counts the distinct rows of the batches given to ``add`` and how often each
    recurs (sandbox side; standard library only, numpy for the bytes)."""

    def __init__(self):
        self.counts: dict[bytes, int] = {}
        self.unreadable = False

    def add(self, batch) -> None:
        """``batch``: a tensor or an array whose first dimension is the batch (on any
        device). Only read: the bytes of each row are digested, nothing is kept."""
        from hashlib import blake2b
        try:
            rows = _rows(batch)
        except Exception:  # noqa: BLE001 - an odd input: count over train_data instead
            self.unreadable = True
            return
        raw, width = memoryview(rows.tobytes()), rows.shape[1] * rows.itemsize
        counts = self.counts
        for start in range(0, len(raw), width or 1):
            digest = blake2b(raw[start:start + width], digest_size=ROW_DIGEST_BYTES).digest()
            counts[digest] = counts.get(digest, 0) + 1

    def recurrence(self) -> list[list[int]] | None:
        """[[times, distinct rows seen that many times], ...] by times (JSON-able), or
        None when a batch could not be read."""
        if self.unreadable:
            return None
        histogram: dict[int, int] = {}
        for times in self.counts.values():
            histogram[times] = histogram.get(times, 0) + 1
        return [[times, rows] for times, rows in sorted(histogram.items())]


def _rows(batch):
    """``batch`` as a C-contiguous numpy array of shape (B, features)."""
    import numpy as np
    if hasattr(batch, "detach"):                    # a torch tensor, perhaps on a GPU
        batch = batch.detach().cpu()
        try:
            batch = batch.numpy()
        except TypeError:                           # bfloat16 and others numpy lacks
            batch = batch.float().numpy()
    array = np.ascontiguousarray(batch)
    return array.reshape(len(array), -1) if array.ndim else array.reshape(1, 1)


class EpochCount:
    """How many epochs ``batch_sizes`` (the sizes of the back-propagated batches) make
    over the images trained on (judge side), from ``TrainedRows.recurrence()``.

    ``images`` is the number of distinct images trained on, or ``dataset_size`` when
    the rows were not counted or were more than the dataset holds (inputs that change
    from one epoch to the next, e.g. augmented: ``changing_inputs``). ``exact(epochs,
    batch_size)`` accepts ``epochs`` passes over those images: each image seen
    ``epochs`` times (identical images, a few, once per copy), or, with every batch
    full (DataLoader's ``drop_last``), ``epochs`` times the full batches they fill."""

    def __init__(self, batch_sizes: list[int], recurrence, dataset_size: int):
        self.batch_sizes = [int(size) for size in batch_sizes]
        self.seen = sum(self.batch_sizes)
        self.dataset_size = max(int(dataset_size), 1)
        self.recurrence = _valid_recurrence(recurrence, self.seen)
        distinct = sum(rows for _, rows in self.recurrence or [])
        self.changing_inputs = distinct > self.dataset_size
        counted = self.recurrence is not None and 0 < distinct <= self.dataset_size
        self.images = distinct if counted else self.dataset_size
        if not counted:
            self.recurrence = None

    @property
    def epochs(self) -> float:
        return self.seen / self.images

    def exact(self, epochs: int, batch_size: int) -> bool:
        if self.seen == epochs * self.images:
            return True
        if self.recurrence is None:
            return False
        once = sum(rows for times, rows in self.recurrence if times == epochs)
        if (all(times % epochs == 0 for times, _ in self.recurrence)
                and self.images - once <= DUPLICATES_SHARE * self.images):
            return True
        steps = len(self.batch_sizes)
        return (all(size == batch_size for size in self.batch_sizes) and steps % epochs == 0
                and self.images // batch_size == steps // epochs)


def _valid_recurrence(recurrence, seen: int):
    """``recurrence`` as it came back from the sandbox when it adds up to the images
    seen, else None."""
    try:
        pairs = [(int(times), int(rows)) for times, rows in recurrence]
    except (TypeError, ValueError):
        return None
    if any(times < 1 or rows < 1 for times, rows in pairs) \
            or sum(times * rows for times, rows in pairs) != seen:
        return None
    return pairs
