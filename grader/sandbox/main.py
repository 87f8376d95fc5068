"""The child process that runs student code for one question.

The judge (grader/judge/runner.py) starts a fresh interpreter for every question with

    python -c BOOTSTRAP JOB_DIR        (runner.BOOTSTRAP: it calls main below)

in a process group of its own. This module then sets the limits and seeds, imports
the project's own ``backend`` from the project folder (never a copy in the student's
folder), puts the student's folder first on ``sys.path``, and hands a
``SandboxContext`` to each step of the question's definition (grader/core/wiring.py),
in the order the module declares them.

Everything the judge learns comes back as files in JOB_DIR: ``events.jsonl`` (one
JSON object per step started or finished) and ``<step>.<name>.npy`` arrays. The
judge treats both as untrusted input: it recomputes every score itself.

When figures are saved (``--save-plots``), the question's optional ``figure_data``
function runs after every step and sends ``figures.<name>.npy`` arrays; the judge
draws from them. Nothing here imports a plotting library for that.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import random
import signal
import sys
import time
from pathlib import Path

from grader.core import lifetime
from grader.core.source import StepFailure, StopStudentCode
from grader.core.table import LIMITS, SPLIT_FILES
from grader.core.wiring import FIGURES_STEP
from grader.sandbox.student_code import StudentModules, describe_exception, student_frames_here

_REAL_EXIT = os._exit  # kept before _guard_exit replaces os._exit



class StepTimeout(BaseException):
    """Raised inside student code when a sanity step runs past its budget.

    A BaseException, so that student code catching Exception does not swallow it.
    """


class Channel:
    """Writes events and arrays for the judge; every event is flushed at once so
    that the judge sees the steps that finished even if the process is killed."""

    def __init__(self, job_dir: Path):
        self.job_dir = job_dir
        self._events = open(job_dir / "events.jsonl", "a", encoding="utf-8")

    def event(self, **fields) -> None:
        self._events.write(json.dumps(fields, default=_jsonable) + "\n")
        self._events.flush()

    def save_array(self, step: str, name: str, array) -> None:
        import numpy as np
        np.save(self.job_dir / f"{step}.{name}.npy", np.asarray(array), allow_pickle=False)


def _jsonable(value):
    """Numbers from numpy/torch become plain floats/ints in events."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


class SandboxContext:
    """What a question's steps use: probes, settings, student code."""

    def __init__(self, job: dict, channel: Channel, probes: dict, modules: StudentModules):
        self.job = job
        self.seed = job["seed"]
        self.question = job["question"]
        self.probes = probes
        self.modules = modules
        self.settings = {}        # the table's settings the running step declared
        self._channel = channel
        self._step_count = 0
        # Figures: only when the judge will draw them; ``kept`` holds what steps
        # left for the question's figure_data function (the trained model...).
        self.figures = bool(job.get("figures"))
        from grader.checks.interfaces import INTERFACES
        self.interface = INTERFACES[job.get("interface", SPLIT_FILES)]
        self.kept: dict = {}
        # What a question's steps hand to its later steps (e.g. the model one step
        # trained, for the next to examine); nothing else reads it.
        self.shared: dict = {}

    # -- student code -----------------------------------------------------------
    def student(self, name: str, *, optional: tuple[str, ...] = ()):
        """The student's module ``name`` (e.g. 'models'); StepFailure if it is
        missing or broken. Modules in ``optional`` are imported first when
        possible, and replaced by stand-ins that fail only when used if not."""
        return self.modules.load(name, optional=optional)

    def lookup(self, module, name: str):
        """``module.name``, accepting the course's published name variants."""
        return self.modules.lookup(module, name)

    def call(self, label: str, function, *args, **kwargs):
        """Call student code; turn anything it raises into a StepFailure whose
        message starts with ``label`` (e.g. 'train.train_regression')."""
        try:
            return function(*args, **kwargs)
        except (StepFailure, StepTimeout, StopStudentCode):
            raise
        except BaseException as error:  # noqa: B036 - student code may raise anything
            info = describe_exception(error, self.modules.files)
            kind = "exception" if info["kind"] == "grader" else info["kind"]
            message = f"{label} {info['message']}"
            if kind == "memory":
                detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                message = (f"{label} used more than the {self.job['memory_mb']} MB of memory "
                           f"allowed ({detail})")
            raise StepFailure(kind, message, info["traceback"]) from None

    # -- steps ------------------------------------------------------------------
    def run_step(self, key: str, body, *, budget: float | None = None) -> dict | None:
        """Run ``body(record)`` as the step ``key``; return its record or None.

        ``record`` is a dict: values put in it are sent to the judge, and
        ``record.save(name, array)`` sends an array. Exceptions from student code
        end the step (not the question); the judge reads what happened.
        """
        self._step_count += 1
        _seed_everything(step_seed(self.seed, self._step_count))
        self._channel.event(started=key)
        record = _StepRecord(self._channel, key)
        started = time.monotonic()
        try:
            with _time_budget(budget, _usable_cores(self.job["threads"])):
                body(record)
        except StepFailure as failure:
            self._channel.event(step=key, ok=False, error=failure.as_dict(),
                                seconds=time.monotonic() - started, values=record)
            return None
        except BaseException as error:  # noqa: B036 - student code may raise anything
            info = describe_exception(error, self.modules.files)
            if isinstance(error, StepTimeout):
                info.update(kind="timeout", message=_budget_message(error, budget))
            elif info["kind"] != "grader":
                info["message"] = "your code " + info["message"]
            self._channel.event(step=key, ok=False, error=info,
                                seconds=time.monotonic() - started, values=record)
            return None
        self._channel.event(step=key, ok=True, seconds=time.monotonic() - started,
                            values=record)
        return record

    # -- watching training ----------------------------------------------------------
    @contextlib.contextmanager
    def training(self, dataset, record, model=None):
        """Around student training: the live plot (if asked for) and the observer
        that reports progress (grader/sandbox/observe.py); its summary goes into
        ``record['training']``, even when training raised. With ``model``, the shape
        of its last input is noted too."""
        from grader.sandbox.observe import TrainingObserver
        observer = TrainingObserver(self._channel, dataset, model)
        self.watch(dataset)
        try:
            with observer:
                yield observer
        finally:
            self.unwatch(dataset)
            record["training"] = observer.summary()

    # -- figures ----------------------------------------------------------------
    def keep(self, **objects) -> None:
        """Keep objects (a trained model, its dataset) for the question's
        figure_data function; does nothing unless figures are being saved."""
        if self.figures:
            self.kept.update(objects)

    def run_figure_data(self, body, budget: float | None) -> None:
        """Run ``body(record)`` after every step; its arrays come back as
        ``figures.<name>``. The scored steps' results are already written, so
        whatever happens here (an exception, a run past ``budget``) costs only
        figures: it is reported as one ``figures_problem`` event."""
        record = _StepRecord(self._channel, FIGURES_STEP)
        try:
            with _time_budget(budget, _usable_cores(self.job["threads"])):
                body(record)
        except BaseException as error:  # noqa: B036 - figures must never cost points
            reason = _budget_message(error, budget) if isinstance(error, StepTimeout) \
                else f"{type(error).__name__}: {error}"
            self._channel.event(figures_problem=reason[:300])

    def watch(self, dataset) -> None:
        """Start the live plot window for ``dataset`` if the user asked for
        graphics (saved figures are drawn by the judge, not here), through the
        ``watch`` of the assignment's support module that has one (backend's)."""
        plots = self._live_plots()
        if not self.job["graphics"] or plots is None:
            return
        try:
            plots.watch(dataset)
        except Exception:  # a broken display must not cost points
            dataset.monitor = None

    def unwatch(self, dataset) -> None:
        plots = self._live_plots()
        try:
            if plots is not None:
                plots.unwatch(dataset)
        except Exception:
            pass

    def _live_plots(self):
        for relative in self.job.get("support_modules", ("backend.py",)):
            module = sys.modules.get(Path(relative).stem)
            if all(callable(getattr(module, name, None)) for name in ("watch", "unwatch")):
                return module
        return None


class _StepRecord(dict):
    def __init__(self, channel: Channel, step: str):
        super().__init__()
        self._channel, self._step = channel, step

    def save(self, name: str, array) -> None:
        self._channel.save_array(self._step, name, array)


class _time_budget:
    """Raise StepTimeout in the main thread after ``seconds`` of CPU time per core
    the sandbox may use (``cores``), as the judge counts a question's limit
    (grader/judge/time_limits.py), or after ``LIMITS.wall_cap_factor`` times
    ``seconds`` on the clock (code that waits uses no CPU). POSIX only; elsewhere the
    judge's limit for the whole question still applies."""

    def __init__(self, seconds: float | None, cores: int = 1):
        self.seconds = seconds if hasattr(signal, "setitimer") else None
        self.cores = cores

    def __enter__(self):
        if self.seconds:
            def expire(signum, frame):
                raise StepTimeout("wall" if signum == signal.SIGALRM else "cpu")
            self._previous = (signal.signal(signal.SIGALRM, expire),
                              signal.signal(signal.SIGPROF, expire))
            # ITIMER_PROF counts the CPU time of every thread of this process
            signal.setitimer(signal.ITIMER_PROF, self.seconds * self.cores)
            signal.setitimer(signal.ITIMER_REAL, self.seconds * LIMITS.wall_cap_factor)
        return self

    def __exit__(self, *exc):
        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGALRM, self._previous[0])
            signal.signal(signal.SIGPROF, self._previous[1])
        return False


def _budget_message(error: BaseException, budget: float) -> str:
    """What a sanity step that ran past its budget is told."""
    if error.args and error.args[0] == "wall":
        return (f"did not finish within {budget * LIMITS.wall_cap_factor:g} s on the clock "
                "while using little CPU time (is it waiting or sleeping?)")
    return f"did not finish within {budget:g} s of CPU time (is there a loop that never ends?)"


def _usable_cores(threads: int) -> int:
    """The cores a step's CPU budget is shared out over: the torch threads, at most
    the cores this process may run on (as the judge counts)."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(threads, available))


def step_seed(question_seed: int, step_number: int) -> int:
    """The seed of a question's ``step_number``-th step (from 1): random, numpy and
    torch are seeded with it just before the step runs, so that a student's script
    seeded the same way trains the same (benchmarks/graded_vs_direct.py)."""
    return question_seed * 1000 + step_number


def _seed_everything(seed: int) -> None:
    import numpy as np
    import torch
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _limit_memory(megabytes: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: the judge says once that memory is not limited
        return
    limit = megabytes * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # e.g. a lower hard limit already set by the system
        pass


def _guard_exit(channel: Channel, files) -> None:
    """Record where student code calls os._exit before the process vanishes."""
    def recorded_exit(code=0):
        channel.event(exit_called={"code": code, "where": student_frames_here(files)})
        _REAL_EXIT(code)

    os._exit = recorded_exit


def _name_warnings(files) -> None:
    """Warnings name the student's files as the student knows them, not the copy of
    their folder the sandbox may work in (the source line is still read from the copy)."""
    import linecache
    import warnings
    original = warnings.formatwarning

    def formatwarning(message, category, filename, lineno, line=None):
        if line is None:
            line = linecache.getline(filename, lineno)
        return original(message, category, files.shown(filename), lineno, line)

    warnings.formatwarning = formatwarning


def main(job_dir: str) -> None:
    entered = time.time()
    lifetime.die_with_parent(signal.SIGKILL)    # before any student code: ends with its judge
    job_path = Path(job_dir)
    job = json.loads((job_path / "job.json").read_text(encoding="utf-8"))
    channel = Channel(job_path)
    fault_log = open(job_path / "fault.txt", "w", encoding="utf-8")
    faulthandler.enable(file=fault_log)
    if hasattr(signal, "SIGUSR1"):   # the judge asks where the code is before stopping it
        faulthandler.register(signal.SIGUSR1, file=fault_log, all_threads=False)
    _limit_memory(job["memory_mb"])

    started = time.monotonic()
    import numpy as np
    import torch
    torch.set_num_threads(job["threads"])
    _seed_everything(job["seed"])
    # Where the sandbox's own time goes, for benchmarks/grading_overhead.py: when
    # main() was entered (the clock's time) and the seconds of imports and set-up.
    phases = {"entered": entered, "imports": time.monotonic() - started}
    started = time.monotonic()

    from grader.core.wiring import SettingsView, load_definition
    definition = load_definition(job["module"])
    with np.load(job_path / "probes.npz", allow_pickle=False) as archive:
        probes = {key: archive[key] for key in archive.files}
    project_root, student_dir = Path(job["project_root"]), Path(job["student_dir"])
    modules = StudentModules(project_root, student_dir,  # imports our backend first
                             tuple(job.get("support_modules", ("backend.py",))),
                             job.get("name_variants"), job.get("student_dir_shown"),
                             Path(job["made_dir"]) if job.get("made_dir") else None,
                             job.get("left_out"))
    _guard_exit(channel, modules.files)
    _name_warnings(modules.files)

    context = SandboxContext(job, channel, probes, modules)
    channel.event(phases=dict(phases, setup=time.monotonic() - started))
    try:
        for step in definition.steps.values():
            context.settings = SettingsView(job["settings"], step.reads, f"step {step.key!r}")
            context.run_step(step.key, lambda record, body=step.body: body(context, record),
                             budget=job["sanity_seconds"] if step.budgeted else None)
    except BaseException as error:  # noqa: B036 - report, never hang or crash silently
        channel.event(sandbox_error=describe_exception(error, modules.files))
    if context.figures and definition.figure_data is not None:
        context.run_figure_data(lambda record: definition.figure_data(context, record),
                                budget=job["sanity_seconds"])
    channel.event(finished=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter shutdown: student threads or atexit hooks must not keep the
    # process alive (or change anything) after the results are written.
    channel._events.close()
    fault_log.close()
    _REAL_EXIT(0)
