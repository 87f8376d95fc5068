"""Live pictures of a model while it trains, switched on by ``backend.watch(dataset)``.

Datasets call ``dataset.monitor.update(dataset)`` after every read; ``monitor_for``
builds the monitor that fits the dataset. Monitors only look: the model runs in eval
mode under ``torch.no_grad()`` and no global random generator is touched, so a run
with plots gives the same numbers as one without. An unfinished model shows a message
instead of a picture. matplotlib is imported only when a monitor is built.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from grader.core.model_calls import evaluating, model_output

# Backends that draw to files or notebooks only: a window is impossible there.
_NON_INTERACTIVE_BACKENDS = frozenset({"agg", "pdf", "svg", "ps", "cairo", "template"})
# Drawing may take at most this share of the time: slow pictures refresh less often.
_MAX_DRAWING_SHARE = 0.2


def display_available() -> bool:
    """True where matplotlib can open a window (a display and an interactive backend)."""
    if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    # Importing pyplot resolves the backend: matplotlib picks agg where no window opens.
    import matplotlib.pyplot
    backend = matplotlib.get_backend().lower()
    return backend not in _NON_INTERACTIVE_BACKENDS and "inline" not in backend


def _evaluate(model, inputs: torch.Tensor, expected_shape: tuple) -> np.ndarray:
    """Run ``model(inputs)`` in eval mode (so dropout draws no random numbers) under
    ``torch.no_grad()``, restoring every submodule's train/eval flag afterwards.

    Returns a float64 array of ``expected_shape``; raises TypeError or ValueError,
    naming the model, when the output is not a tensor of that size.
    """
    with evaluating(model), torch.no_grad():
        output = model_output(model, inputs)
    expected_shape = tuple(int(size) for size in expected_shape)
    name = type(model).__name__
    if not torch.is_tensor(output):
        raise TypeError(f"{name}.forward returned {type(output).__name__}; expected a "
                        f"tensor of shape {expected_shape}")
    if output.numel() != int(np.prod(expected_shape)):
        raise ValueError(f"{name}.forward returned shape {tuple(output.shape)}; expected "
                         f"{expected_shape}")
    return output.detach().double().cpu().numpy().reshape(expected_shape)


def _softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of a (rows, classes) array."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class LiveMonitor:
    """Rate limiting, the figure, showing or saving it, and containing failures.

    Subclasses draw what never changes in ``setup(dataset)`` and what depends on the
    model in ``draw(dataset)``, which may raise: the error is shown on the figure.

    Args:
        dataset: the dataset watched (``close()`` draws it one last time).
        refresh_per_second: the most redraws per second.
        save_to: a PNG path rewritten at every redraw, or None.
        window: draw in a pyplot window (needs a display) rather than off screen.
    """

    title = "Live plot"
    figure_size = (7.0, 5.0)

    def __init__(self, dataset, refresh_per_second: float = 4.0, save_to=None,
                 window: bool = False):
        if not refresh_per_second > 0:
            raise ValueError(f"refresh_per_second must be positive; got {refresh_per_second}")
        self._interval = 1.0 / refresh_per_second
        self._next_refresh = 0.0  # update() does nothing before this time.monotonic()
        self._dataset = dataset
        self._save_to = None if save_to is None else Path(save_to)
        self._pid = os.getpid()  # a forked DataLoader worker must not draw
        self._closed, self._pyplot, self._was_interactive, self.figure = False, None, False, None
        try:
            self.figure = self._make_figure(window)
            self._problem = self.figure.text(  # the message shown when draw() fails
                0.5, 0.5, "", ha="center", va="center", fontsize=11, color="darkred",
                zorder=10, visible=False, bbox=dict(facecolor="white", edgecolor="darkred"))
            if self._save_to is not None:
                self._save_to.parent.mkdir(parents=True, exist_ok=True)
            self.setup(dataset)
        except Exception:
            self._close_figure()  # leave no half-built window behind, and undo ion()
            raise

    def _make_figure(self, window: bool):
        if not window:
            # Figure + Agg canvas rather than pyplot: no window, no backend switch.
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
            figure = Figure(figsize=self.figure_size)
            FigureCanvasAgg(figure)
            return figure
        import matplotlib.pyplot as plt
        self._pyplot, self._was_interactive = plt, plt.isinteractive()
        plt.ion()  # the window opens at once, and drawing never blocks training
        figure = plt.figure(figsize=self.figure_size)
        if getattr(figure.canvas, "manager", None) is not None:
            figure.canvas.manager.set_window_title(self.title)
        return figure

    def setup(self, dataset) -> None:
        """Draw the parts of the picture that do not depend on the model."""
        raise NotImplementedError

    def draw(self, dataset) -> None:
        """Update the parts that depend on the model; may raise."""
        raise NotImplementedError

    def update(self, dataset) -> None:
        """Called after every read: redraws only once the refresh interval is over."""
        if time.monotonic() < self._next_refresh:
            return
        self.refresh(dataset)

    def refresh(self, dataset=None) -> None:
        """Redraw now, whatever the time, then show or save the figure."""
        if self._closed or os.getpid() != self._pid:
            self._next_refresh = float("inf")
            return
        started = time.monotonic()
        try:
            self.draw(self._dataset if dataset is None else dataset)
            self._problem.set_visible(False)
        except Exception as error:
            reason = textwrap.shorten(f"{type(error).__name__}: {error}", width=160)
            self._problem.set_text(textwrap.fill(f"model output unavailable: {reason}", 60))
            self._problem.set_visible(True)
        try:
            self._publish()
        except Exception as error:
            warnings.warn(f"The live plot stopped: {type(error).__name__}: {error}")
            self._close_figure()
        if not self._closed:
            finished = time.monotonic()
            busy = (finished - started) * (1 - _MAX_DRAWING_SHARE) / _MAX_DRAWING_SHARE
            self._next_refresh = finished + max(self._interval, busy)

    def _publish(self) -> None:
        if self._save_to is not None:
            # Write then rename, so that a viewer never opens a half-written PNG.
            temporary = self._save_to.with_name(f".{self._save_to.name}.{os.getpid()}.tmp")
            try:
                self.figure.savefig(temporary, format="png", dpi=100)
                os.replace(temporary, self._save_to)
            finally:
                temporary.unlink(missing_ok=True)  # only left there if saving failed
        if self._pyplot is not None:
            if not self._pyplot.fignum_exists(self.figure.number):
                self._close_figure()  # the student closed the window: stop drawing
                return
            self.figure.canvas.draw_idle()
            self.figure.canvas.flush_events()  # not plt.pause(), which steals focus

    def close(self) -> None:
        """Draw a final frame (saved if ``save_to`` was given), then close. Idempotent."""
        self.refresh()
        self._close_figure()

    def _close_figure(self) -> None:
        self._closed, self._next_refresh = True, float("inf")  # update() returns at once
        plt, self._pyplot = self._pyplot, None
        if plt is None:
            return
        try:
            if self.figure is not None:  # plt.close(None) would close another figure
                plt.close(self.figure)
        except Exception as error:
            warnings.warn(f"Could not close the live plot window: {error}")
        if not self._was_interactive:
            plt.ioff()

    def __reduce__(self):
        # A copy of the dataset (e.g. pickled into a DataLoader worker) must not draw:
        # its model is a stale copy. So the copy's monitor is None, as if unwatched.
        return (type(None), ())


class PerceptronMonitor(LiveMonitor):
    """The 2-D points by label, the boundary w0*x0 + w1*x1 + w2 = 0, and the mistakes."""

    title = "Live plot: perceptron"
    figure_size = (6.5, 5.5)

    def setup(self, dataset) -> None:
        from matplotlib.colors import ListedColormap
        points, labels = dataset.x[:, :2], dataset.y[:, 0]                 # (N, 2), (N,)
        low, high = points.min(axis=0) - 0.3, points.max(axis=0) + 0.3
        grid_x0, grid_x1 = np.meshgrid(np.linspace(low[0], high[0], 150),
                                       np.linspace(low[1], high[1], 150))  # (150, 150)
        self._grid = np.stack([grid_x0.ravel(), grid_x1.ravel(),
                               np.ones(grid_x0.size)], axis=1)           # (22500, 3)
        self._grid_shape = grid_x0.shape
        self.axes = ax = self.figure.add_subplot()
        self._region = ax.imshow(  # NaN: blank until the weights are first read
            np.full(self._grid_shape, np.nan), origin="lower", aspect="auto", vmin=-1, vmax=1,
            extent=(low[0], high[0], low[1], high[1]),
            cmap=ListedColormap(["#f8dede", "#dde8f8"]))
        ax.scatter(*points[labels > 0].T, s=14, color="tab:blue", label="label +1")
        ax.scatter(*points[labels < 0].T, s=14, color="tab:red", marker="s", label="label -1")
        self._mistakes = ax.scatter([], [], s=70, facecolors="none", edgecolors="black",
                                    linewidths=1.2, label="misclassified")
        self._boundary, = ax.plot([], [], color="black", linewidth=2,
                                  label="boundary (shade = predicted side)")
        ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), xlabel="x0", ylabel="x1",
               title="Perceptron")
        ax.legend(loc="lower left", fontsize=8, framealpha=0.9)

    def draw(self, dataset) -> None:
        weights = dataset.model.get_weights()
        if not torch.is_tensor(weights) or weights.numel() != 3:
            found = tuple(weights.shape) if torch.is_tensor(weights) else repr(weights)
            raise ValueError(f"{type(dataset.model).__name__}.get_weights() returned "
                             f"{found}; expected a (1, 3) Parameter")
        w = weights.detach().double().cpu().numpy().reshape(3)                 # (3,)
        # The rule of get_prediction: a score >= 0 means +1.
        predicted = np.where(dataset.x.astype(np.float64) @ w >= 0, 1.0, -1.0)  # (N,)
        wrong = predicted != dataset.y[:, 0]
        region = np.where(self._grid @ w >= 0, 1.0, -1.0)                    # (22500,)
        self._region.set_data(region.reshape(self._grid_shape))
        self._mistakes.set_offsets(dataset.x[wrong, :2])
        if w[1] != 0:
            xs = np.array(self.axes.get_xlim())
            self._boundary.set_data(xs, -(w[0] * xs + w[2]) / w[1])
        elif w[0] != 0:  # w1 == 0: the boundary is the vertical line x0 = -w2 / w0
            self._boundary.set_data([-w[2] / w[0]] * 2, self.axes.get_ylim())
        else:
            self._boundary.set_data([], [])
        note = "\n(no boundary yet: w0 = w1 = 0)" if w[0] == 0 and w[1] == 0 else ""
        self.axes.set_title(f"Perceptron: {getattr(dataset, 'epoch', 0)} points read, "
                            f"training accuracy {1 - wrong.mean():.1%}{note}")


class RegressionMonitor(LiveMonitor):
    """sin(x) and the model's current prediction, with the mean squared error."""

    title = "Live plot: regression"
    figure_size = (7.5, 4.5)

    def setup(self, dataset) -> None:
        self._order = np.argsort(dataset.x[:, 0])                           # (N,)
        xs = dataset.x[self._order, 0]
        self.axes = ax = self.figure.add_subplot()
        ax.plot(xs, dataset.y[self._order, 0], "--", color="gray", lw=2, label="target sin(x)")
        self._fit, = ax.plot([], [], color="tab:orange", linewidth=2, label="model prediction")
        # Fixed limits, so that the curve is seen converging instead of the axes moving.
        ax.set(xlim=(xs[0], xs[-1]), ylim=(-2, 2), xlabel="x", ylabel="y", title="Regression")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=9)

    def draw(self, dataset) -> None:
        x = torch.from_numpy(dataset.x)                                     # (N, 1)
        predicted = _evaluate(dataset.model, x, (len(x), 1))                # (N, 1)
        error = float(np.mean((predicted - dataset.y) ** 2))
        self._fit.set_data(dataset.x[self._order, 0], predicted[self._order, 0])
        self.axes.set_title(f"Regression: mean squared error {error:.4f}")


class DigitMonitor(LiveMonitor):
    """A fixed grid of dev digits titled with the predicted digit and its confidence."""

    title = "Live plot: digit classification"
    figure_size = (9.0, 7.5)
    rows, columns = 5, 6

    def setup(self, dataset) -> None:
        self._axes = self.figure.subplots(self.rows, self.columns).ravel()
        # Evenly spaced rather than random: the global generators must stay untouched.
        self._shown = np.linspace(0, len(dataset.dev_images) - 1,
                                  len(self._axes)).round().astype(int)     # (30,)
        for ax, index in zip(self._axes, self._shown):
            ax.imshow(dataset.dev_images[index].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
            ax.set(xticks=[], yticks=[])
        self.figure.subplots_adjust(left=0.03, right=0.97, bottom=0.02, top=0.87,
                                    hspace=0.45, wspace=0.15)

    def draw(self, dataset) -> None:
        images = torch.from_numpy(dataset.dev_images)                       # (D, 784)
        probabilities = _softmax(_evaluate(dataset.model, images, (len(images), 10)))
        predicted = probabilities.argmax(axis=1)                            # (D,)
        accuracy = float(np.mean(predicted == dataset.dev_labels))
        for ax, index in zip(self._axes, self._shown):
            guess, truth = predicted[index], dataset.dev_labels[index]
            right = guess == truth
            label = f"{guess}  {probabilities[index, guess]:.0%}"
            ax.set_title(label if right else f"{label}  (is {truth})", fontsize=10,
                         color="black" if right else "red")
            for spine in ax.spines.values():
                spine.set_edgecolor("black" if right else "red")
                spine.set_linewidth(0.8 if right else 2.5)
        self.figure.suptitle(f"Digits: dev accuracy {accuracy:.1%} on {len(images)} digits\n"
                             "title = predicted digit and confidence; red = wrong", fontsize=11)


class LanguageMonitor(LiveMonitor):
    """Spotlight words: each language's probability for a fixed handful of dev words."""

    title = "Live plot: language identification"
    figure_size = (8.0, 6.0)

    def setup(self, dataset) -> None:
        from matplotlib.patches import Rectangle
        languages = len(dataset.language_names)
        # The words a third and two thirds into each language's rows (which are sorted
        # by length): medium lengths, every language, no random numbers.
        by_language = [np.flatnonzero(dataset.dev_y == k) for k in range(languages)]
        self._rows = np.array([rows[len(rows) * part // 3]
                               for rows in by_language for part in (1, 2)])  # (K,)
        words = ["".join(dataset.chars[c] for c in dataset.dev_x[row] if c >= 0)
                 for row in self._rows]
        self.axes = ax = self.figure.add_subplot()
        self._table = ax.imshow(np.zeros((len(words), languages)), cmap="Blues",
                                vmin=0, vmax=1, aspect="auto")
        self._cells = [[ax.text(j, i, "", ha="center", va="center", fontsize=9)
                        for j in range(languages)] for i in range(len(words))]
        for i, row in enumerate(self._rows):
            ax.add_patch(Rectangle((dataset.dev_y[row] - 0.5, i - 0.5), 1, 1, fill=False,
                                   edgecolor="darkorange", linewidth=2.5))
        ax.set_xticks(range(languages), [str(name) for name in dataset.language_names])
        ax.set_yticks(range(len(words)), words)
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        self.figure.subplots_adjust(left=0.2, right=0.97, top=0.83, bottom=0.04)

    def draw(self, dataset) -> None:
        languages = len(dataset.language_names)
        probabilities = np.zeros((len(dataset.dev_x), languages))            # (D, 5)
        for start, end in dataset.dev_buckets:  # one model call per word length
            xs, _ = dataset._encode(dataset.dev_x[start:end], dataset.dev_y[start:end])
            logits = _evaluate(dataset.model, xs, (end - start, languages))  # (B, 5)
            probabilities[start:end] = _softmax(logits)
        predicted = probabilities.argmax(axis=1)                            # (D,)
        shown = probabilities[self._rows]                                   # (K, 5)
        self._table.set_data(shown)
        for i, (row, word) in enumerate(zip(self._rows, self.axes.get_yticklabels())):
            for j, cell in enumerate(self._cells[i]):
                cell.set_text(f"{shown[i, j]:.0%}")
                cell.set_color("white" if shown[i, j] > 0.6 else "black")
            word.set_color("black" if predicted[row] == dataset.dev_y[row] else "red")
        accuracy = float(np.mean(predicted == dataset.dev_y))
        self.axes.set_title(f"Language ID: dev accuracy {accuracy:.1%}\nspotlight words: orange "
                            "box = true language, red word = wrong guess", fontsize=11, pad=28)


# Matched in order against the names of the dataset's classes (its MRO): this module
# never imports backend (backend.watch imports it), and subclasses work too.
_MONITORS = (
    ("PerceptronDataset", PerceptronMonitor),
    ("RegressionDataset", RegressionMonitor),
    ("DigitClassificationDataset", DigitMonitor),
    ("LanguageIDDataset", LanguageMonitor),
)


def monitor_for(dataset, refresh_per_second: float = 4.0, save_to=None):
    """Build the live monitor that fits ``dataset``.

    Args:
        dataset: one of backend's datasets, with its ``model`` attribute set.
        refresh_per_second: the most redraws per second.
        save_to: a PNG path written at every redraw and on close, or None.
    Returns:
        a LiveMonitor (``update(dataset)`` after reads, ``close()`` at the end), or None
        where the dataset has no picture, or no display is available and no save_to.
    """
    class_names = {cls.__name__ for cls in type(dataset).__mro__}
    monitor_class = next((monitor for name, monitor in _MONITORS if name in class_names), None)
    if monitor_class is None:
        return None
    if display_available():
        try:
            return monitor_class(dataset, refresh_per_second, save_to, window=True)
        except Exception:
            pass  # e.g. a broken Tk installation: fall back to the PNG, or to nothing
    if save_to is None:
        return None
    return monitor_class(dataset, refresh_per_second, save_to, window=False)
