"""Live training plots (grader/figures/live.py): headless, saved to PNG files.

Every test runs without a display (MPLBACKEND=Agg, DISPLAY unset), so plots are
only ever written to files under pytest's tmp_path.
"""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import backend
from grader.figures import live as live_plots


@pytest.fixture(autouse=True)
def headless(monkeypatch):
    import matplotlib.pyplot as plt
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    plt.switch_backend("agg")  # matplotlib may have read MPLBACKEND before this test


class Perceptron(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([[1.0, 0.5, -0.2]]))

    def get_weights(self):
        return self.w

    def forward(self, x):
        return (self.w * x).sum()


class Regression(torch.nn.Module):
    """Linear with dropout: drawing in train mode would consume random numbers."""

    def __init__(self):
        super().__init__()
        self.dropout = torch.nn.Dropout(0.5)
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(self.dropout(x))                    # (B, 1)


class Language(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(47, 5)

    def forward(self, xs):
        return self.linear(xs.sum(0))                          # (L, B, 47) -> (B, 5)


class ReturnsNone(torch.nn.Module):
    def forward(self, x):
        return None


class Raises(torch.nn.Module):
    def forward(self, x):
        raise RuntimeError("student forward is unfinished")


# Loading the data files takes a while: load once, and unwatch after every test.
@pytest.fixture(scope="module")
def shared_digits():
    return backend.DigitClassificationDataset2(None)


@pytest.fixture(scope="module")
def shared_languages():
    return backend.LanguageIDDataset(None)


@pytest.fixture
def digits(shared_digits):
    yield shared_digits
    backend.unwatch(shared_digits)


@pytest.fixture
def languages(shared_languages):
    yield shared_languages
    backend.unwatch(shared_languages)


def read_all(dataset, batch_size=64):
    """Read every item as training would; returns the number of batches."""
    return sum(1 for _ in DataLoader(dataset, batch_size=batch_size))


def assert_png(path):
    assert path.is_file(), f"no PNG written at {path}"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_display_and_no_file_draws_nothing():
    dataset = backend.RegressionDataset(Regression())
    assert live_plots.display_available() is False
    assert backend.watch(dataset) is False
    assert dataset.monitor is None
    backend.unwatch(dataset)  # harmless when nothing is watched


def test_datasets_without_a_picture_get_no_monitor(tmp_path):
    dataset = backend.Custom_Dataset(np.zeros((4, 2)), np.zeros((4, 1)))
    assert backend.watch(dataset, save_to=tmp_path / "p.png") is False
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("name", ["perceptron", "regression", "digits", "languages"])
def test_every_picture_is_saved(name, tmp_path, request):
    if name == "perceptron":
        dataset = backend.PerceptronDataset(Perceptron())
    elif name == "regression":
        dataset = backend.RegressionDataset(Regression())
    else:
        dataset = request.getfixturevalue(name)
        dataset.model = torch.nn.Linear(784, 10) if name == "digits" else Language()
    path = tmp_path / "p.png"
    assert backend.watch(dataset, save_to=path) is True
    assert read_all(dataset) > 0
    assert_png(path)  # the first read draws at once
    backend.unwatch(dataset)
    assert_png(path)
    assert dataset.monitor is None
    assert not list(tmp_path.glob(".*tmp")), "temporary file left behind"


@pytest.mark.parametrize("model", [ReturnsNone(), Raises(), torch.nn.Linear(784, 3)],
                         ids=["returns None", "raises", "wrong shape"])
def test_unfinished_models_do_not_stop_training(model, digits, tmp_path):
    digits.model = model
    path = tmp_path / "p.png"
    assert backend.watch(digits, save_to=path) is True
    monitor = digits.monitor
    assert read_all(digits, batch_size=20) == 10     # 200 digits (q5 subset)
    assert monitor._problem.get_visible()
    assert "model output unavailable" in monitor._problem.get_text()
    backend.unwatch(digits)
    backend.unwatch(digits)  # closing twice is fine
    monitor.close()
    assert_png(path)


def test_perceptron_with_all_zero_or_vertical_weights(tmp_path):
    model = Perceptron()
    dataset = backend.PerceptronDataset(model)
    monitor = live_plots.monitor_for(dataset, save_to=tmp_path / "p.png")
    for weights in ([0.0, 0.0, 0.0], [1.0, 0.0, 0.5]):
        with torch.no_grad():
            model.w.copy_(torch.tensor([weights]))
        monitor.refresh(dataset)
        assert not monitor._problem.get_visible()
    assert len(monitor._boundary.get_xdata()) == 2  # x0 = -0.5, a vertical line
    monitor.close()


def test_drawing_leaves_model_and_random_numbers_alone(tmp_path):
    def draws_after_reading(watch):
        torch.manual_seed(0)
        np.random.seed(0)
        dataset = backend.RegressionDataset(Regression())
        state = {key: value.clone() for key, value in dataset.model.state_dict().items()}
        if watch:
            backend.watch(dataset, save_to=tmp_path / "p.png")
        read_all(dataset)
        backend.unwatch(dataset)
        assert dataset.model.training and dataset.model.dropout.training
        for key, value in dataset.model.state_dict().items():
            assert torch.equal(value, state[key])
        return torch.rand(4), np.random.rand(4)

    with_plot, without_plot = draws_after_reading(True), draws_after_reading(False)
    assert torch.equal(with_plot[0], without_plot[0])
    assert np.array_equal(with_plot[1], without_plot[1])


def test_updates_are_rate_limited(tmp_path, monkeypatch):
    dataset = backend.PerceptronDataset(Perceptron())
    monitor = live_plots.monitor_for(dataset, refresh_per_second=1, save_to=tmp_path / "p.png")
    redraws = []
    draw = monitor.draw
    monkeypatch.setattr(monitor, "draw", lambda d: (redraws.append(1), draw(d)))
    for _ in range(1000):
        monitor.update(dataset)
    assert 1 <= len(redraws) <= 2
    monitor.close()
    assert len(redraws) <= 3
    monitor.update(dataset)
    monitor.close()
    assert len(redraws) <= 3, "a closed monitor must not draw again"


def test_window_mode_uses_pyplot_and_closes_it(monkeypatch):
    import matplotlib.pyplot as plt
    monkeypatch.setattr(live_plots, "display_available", lambda: True)
    dataset = backend.RegressionDataset(Regression())
    was_interactive = plt.isinteractive()
    monitor = live_plots.monitor_for(dataset)
    assert monitor is not None and plt.fignum_exists(monitor.figure.number)
    monitor.update(dataset)
    monitor.close()
    assert not plt.fignum_exists(monitor.figure.number)
    assert plt.isinteractive() == was_interactive


def test_copies_for_dataloader_workers_are_unwatched(tmp_path):
    import pickle
    dataset = backend.RegressionDataset(Regression())
    backend.watch(dataset, save_to=tmp_path / "p.png")
    assert pickle.loads(pickle.dumps(dataset)).monitor is None
    assert dataset.monitor is not None
    backend.unwatch(dataset)
