"""The status line of a running question (judge side).

While a question's sandbox runs, the judge shows one line: the question, the time
it has taken against its limit (the CPU time counted, and the time on the clock
when that differs: grader/judge/time_limits.py), and what the sandbox's observer reported (epochs
read, the latest validation accuracy the student's code asked for, the latest
loss). On a terminal the line rewrites itself and is cleared before any line the
student's code prints, so their output stays readable; elsewhere (a log, a CI job)
a plain line is printed every ``PLAIN_SECONDS``. It goes to stderr, like other
progress displays, so that stdout holds only the student's output and the report.
"""

from __future__ import annotations

import shutil
import sys
import threading

PLAIN_SECONDS = 10.0
CLOCK_GAP_SECONDS = 5.0   # the clock's time is shown too once it is this far ahead
CLEAR = "\r\033[K"


def clock(seconds: float) -> str:
    """0:07, 12:34 or 1h02m."""
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def describe(question: str, elapsed: float, limit: float, progress: dict,
             counted: float | None = None) -> str:
    """The status text, e.g. 'q3: 1:20 of 10:00, epoch 2.4, validation accuracy
    96.12%, loss 0.0831'. ``elapsed`` is the time on the clock; ``counted``, the
    time counted against the limit where that is CPU time (None: the clock's)."""
    if counted is None or elapsed - counted < CLOCK_GAP_SECONDS:
        shown = elapsed if counted is None else counted
        head = f"{question}: {clock(shown)} of {clock(limit)}"
    else:
        head = (f"{question}: {clock(counted)} of {clock(limit)} CPU time "
                f"({clock(elapsed)} on the clock)")
    parts = [head]
    epochs = progress.get("epochs")
    if isinstance(epochs, (int, float)) and epochs > 0:
        parts.append(f"epoch {epochs:.1f}")
    validation = progress.get("validation")
    if isinstance(validation, (int, float)):
        parts.append(f"validation accuracy {100 * validation:.2f}%")
    loss = progress.get("loss")
    if isinstance(loss, (int, float)):
        parts.append(f"loss {loss:.4g}")
    elif isinstance(loss, str):           # nan or inf, sent as text
        parts.append(f"loss {loss}")
    return ", ".join(parts)


class StatusLine:
    """The status of the running questions (one, or several side by side with -j),
    shared by the judge's wait loops and output pumps."""

    def __init__(self, stream=None, plain_seconds: float = PLAIN_SECONDS):
        self.stream = stream or sys.stderr
        try:
            self.terminal = self.stream.isatty()
        except (AttributeError, ValueError):
            self.terminal = False
        self.plain_seconds = plain_seconds
        self.lock = threading.Lock()
        self.texts: dict[str, str] = {}      # one per running question, in start order
        self.last_plain: dict[str, float] = {}
        self.shown = False                # the line is on the screen now (terminal)
        self.at_line_start = True         # the student's last output ended its line

    @property
    def text(self) -> str:
        return " | ".join(self.texts.values())

    def update(self, question: str, elapsed: float, limit: float, progress: dict,
               key: str | None = None, counted: float | None = None) -> None:
        """The status of one running question (``key``, default ``question``):
        ``elapsed`` on the clock, ``counted`` against the limit (see ``describe``)."""
        key = key or question
        with self.lock:
            self.texts[key] = describe(question, elapsed, limit, progress, counted)
            if self.terminal:
                if self.at_line_start:
                    self._draw()
            elif elapsed - self.last_plain.get(key, 0.0) >= self.plain_seconds:
                self.last_plain[key] = elapsed
                self._write(f"[{self.texts[key]}]\n")

    def before_output(self) -> None:
        """Clear the line before the student's output (or a report) is written."""
        with self.lock:
            if self.shown:
                self._write(CLEAR)
                self.shown = False

    def after_output(self, text: str) -> None:
        """Put the line back once the output written has ended its line."""
        with self.lock:
            if text:
                self.at_line_start = text.endswith("\n")
            if self.terminal and self.at_line_start and self.texts:
                self._draw()

    def end(self, key: str | None = None) -> None:
        """Remove one question's status (all of them without ``key``): its report
        follows."""
        with self.lock:
            if key is None:
                self.texts.clear()
                self.last_plain.clear()
            else:
                self.texts.pop(key, None)
                self.last_plain.pop(key, None)
            if self.shown:
                self._write(CLEAR)
                self.shown = False
            if self.texts and self.terminal and self.at_line_start:
                self._draw()
            if not self.texts:
                self.at_line_start = True

    def _draw(self) -> None:
        width = shutil.get_terminal_size((100, 24)).columns - 1
        self._write(CLEAR + self.text[:max(width, 20)])
        self.shown = True

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass    # a closed or broken stream must not stop grading
