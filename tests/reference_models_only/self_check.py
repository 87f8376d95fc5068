"""A quick self-check of the models-only reference solutions (not a pytest test).

Run from the repository root:

    python tests/reference_models_only/self_check.py

For models.py and models_both.py in this folder: builds every model, runs it on a
small batch and checks the output shape, calls get_loss and backward (gradients must
reach every parameter), checks Convolve against torch's conv2d and Attention against
tests/reference's attention, then trains PerceptronModel and RegressionModel on the
real backend datasets (about ten seconds each). Questions 3-5 get one training batch
each, not full training.
"""

import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from torch.utils.data import DataLoader  # noqa: E402

import backend  # noqa: E402


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grads_reach_all(model) -> bool:
    return all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def one_batch(model, dataset, batch_size, letters_first=False):
    """One Adam step on one batch through get_loss; returns (output shape, loss before,
    loss after) on that batch."""
    batch = next(iter(DataLoader(dataset, batch_size=batch_size, shuffle=True)))
    x, y = batch["x"], batch["label"]
    if letters_first:
        x = torch.movedim(x, 0, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    optimizer.zero_grad()
    loss = model.get_loss(x, y)
    loss.backward()
    assert grads_reach_all(model)
    optimizer.step()
    with torch.no_grad():
        after = model.get_loss(x, y).item()
    return tuple(model.run(x).shape), loss.item(), after


def check(path: Path) -> None:
    print(f"== {path.relative_to(ROOT)}")
    m = load(path, f"check_{path.stem}")
    torch.manual_seed(0)
    np.random.seed(0)

    # Shapes, get_loss, backward on small batches.
    p = m.PerceptronModel(3)
    print("  PerceptronModel: w", tuple(p.get_weights().shape), "| run((1,3)) ->",
          tuple(p.run(torch.ones(1, 3)).shape), "| run((3,)) ->", tuple(p.run(torch.ones(3)).shape),
          "| get_prediction ->", p.get_prediction(torch.ones(1, 3)),
          p.get_prediction(-torch.ones(1, 3)))
    for name, make, x, y in [
            ("RegressionModel", m.RegressionModel, torch.randn(8, 1), torch.randn(8, 1)),
            ("DigitClassificationModel", m.DigitClassificationModel, torch.rand(8, 784),
             torch.eye(10)[torch.randint(10, (8,))]),
            ("LanguageIDModel", m.LanguageIDModel, torch.eye(47)[torch.randint(47, (5, 8))],
             torch.eye(5)[torch.randint(5, (8,))]),
            ("DigitConvolutionalModel", m.DigitConvolutionalModel, torch.rand(8, 784),
             torch.eye(10)[torch.randint(10, (8,))])]:
        model = make()
        out = model.run(x)
        loss = model.get_loss(x, y)
        loss.backward()
        print(f"  {name}: run{tuple(x.shape)} -> {tuple(out.shape)} | loss {loss.item():.4f} "
              f"(shape {tuple(loss.shape)}) | grads reach all parameters: {grads_reach_all(model)}")

    # Convolve against torch's (cross-correlation) conv2d, and its gradient.
    inp, w = torch.randn(7, 9), torch.randn(3, 4, requires_grad=True)
    ours = m.Convolve(inp, w)
    expected = torch.nn.functional.conv2d(inp[None, None], w.detach()[None, None])[0, 0]
    gap = float((ours.detach() - expected).abs().max())
    ours.sum().backward()
    print(f"  Convolve: {tuple(inp.shape)} by {tuple(w.shape)} -> {tuple(ours.shape)} | "
          f"max |diff| vs conv2d {gap:.2e} | weight grad: "
          f"{w.grad is not None}")

    # Attention against tests/reference's AttentionBlock with the same weights.
    reference = load(ROOT / "tests" / "reference" / "models.py", "check_reference_models")
    ours_att, ref_att = m.Attention(6, 8), reference.AttentionBlock(6, 8)
    ref_att.load_state_dict(ours_att.state_dict())
    x = torch.randn(3, 5, 6)
    with torch.no_grad():
        diff = float((ours_att(x) - ref_att(x)).abs().max())
    print(f"  Attention: forward(3, 5, 6) -> {tuple(ours_att(x).shape)} | max |diff| vs "
          f"tests/reference {diff:.2e} | AttentionBlock alias: {m.AttentionBlock is m.Attention}")

    # q1 and q2: full training on the real datasets.
    perceptron = m.PerceptronModel(3)
    data = backend.PerceptronDataset(perceptron)
    start = time.perf_counter()
    perceptron.train(data)
    with torch.no_grad():
        right = np.mean([perceptron.get_prediction(torch.from_numpy(row)) == label
                         for row, label in zip(data.x, data.y[:, 0])])
    print(f"  q1 PerceptronModel.train: training accuracy {right:.1%} "
          f"({time.perf_counter() - start:.1f} s, {data.epoch} items read)")

    regression = m.RegressionModel()
    data = backend.RegressionDataset(regression)
    start = time.perf_counter()
    regression.train(data)
    with torch.no_grad():
        mse = float(torch.nn.functional.mse_loss(regression.run(torch.from_numpy(data.x)),
                                                 torch.from_numpy(data.y)))
    print(f"  q2 RegressionModel.train: MSE over dataset.x/dataset.y {mse:.5f} "
          f"({'< 0.02, passes' if mse < 0.02 else 'FAILS'}; {time.perf_counter() - start:.1f} s)")
    print("  .training flag untouched (True):", regression.training,
          "| train parameters:", m.RegressionModel.train.__code__.co_varnames[:2])
    if "forward" in vars(m.RegressionModel):   # models_both.py: model(x) == model.run(x)
        digits, language = m.DigitClassificationModel(), m.LanguageIDModel()
        images, words = torch.rand(6, 784), torch.eye(47)[torch.randint(47, (4, 6))]
        points = torch.from_numpy(data.x)
        same = (torch.equal(digits(images), digits.run(images))
                and torch.equal(language(words), language.run(words))
                and torch.equal(regression(points), regression.run(points)))
        print("  forward and run agree (digits, language, regression):", same)

    # q3-q5: one batch each on the real datasets.
    for name, make, dataset_class, batch_size, letters_first in [
            ("q3 DigitClassificationModel", m.DigitClassificationModel,
             backend.DigitClassificationDataset, 100, False),
            ("q4 LanguageIDModel", m.LanguageIDModel, backend.LanguageIDDataset, 128, True),
            ("q5 DigitConvolutionalModel", m.DigitConvolutionalModel,
             backend.DigitClassificationDataset2, 50, False)]:
        model = make()
        shape, before, after = one_batch(model, dataset_class(model), batch_size, letters_first)
        print(f"  {name}: one batch -> run output {shape}, loss {before:.4f} -> {after:.4f} "
              "after one Adam step")


def check_skeleton() -> None:
    """The models-only skeleton imports, and its stubs return None."""
    path = ROOT / "grader" / "assignments" / "course" / "skeletons" / "models_only" / "models.py"
    print(f"== {path.relative_to(ROOT)}")
    s = load(path, "check_skeleton_models")
    results = {
        "PerceptronModel.run": s.PerceptronModel(3).run(torch.ones(1, 3)),
        "RegressionModel.run": s.RegressionModel().run(torch.ones(4, 1)),
        "RegressionModel.get_loss": s.RegressionModel().get_loss(torch.ones(4, 1), torch.ones(4, 1)),
        "DigitClassificationModel.run": s.DigitClassificationModel().run(torch.ones(4, 784)),
        "LanguageIDModel.run": s.LanguageIDModel().run(torch.ones(3, 4, 47)),
        "Convolve": s.Convolve(torch.ones(4, 4), torch.ones(2, 2)),
        "Attention.forward": s.Attention(4, 5)(torch.ones(2, 3, 4)),
    }
    print("  stubs returning None:", sorted(k for k, v in results.items() if v is None))
    print("  stubs returning something:", sorted(k for k, v in results.items() if v is not None))


if __name__ == "__main__":
    torch.set_num_threads(1)
    for file in ("models.py", "models_both.py"):
        check(HERE / file)
    check_skeleton()
