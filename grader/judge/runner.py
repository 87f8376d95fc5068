"""Runs one question's sandbox and collects what it left behind (judge side).

The judge never imports student code. It writes a job (settings and probe inputs)
into a temporary folder, starts ``grader.sandbox.main`` in a fresh interpreter and a
process group of its own, streams the child's output (capped), enforces the time
limit (CPU time of the whole group, with a wall-clock cap: grader/judge/time_limits.py)
and the memory limit on the whole group, and reads back events and arrays.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.core import lifetime
from grader.core.parsing import load_json
from grader.core.source import StudentFiles
from grader.judge import platform_support
from grader.judge.confinement import Confinement
from grader.judge.status import StatusLine
from grader.judge.time_limits import TimeUse, budget
from grader.judge.warm_start import WarmSandbox

POLL_SECONDS = 0.05
PROGRESS_POLL_SECONDS = 0.5
EVENTS_LIMIT = 64 * 2**20      # bytes of events.jsonl (or fault.txt) the judge reads at most
ARRAY_LIMIT = 512 * 2**20      # bytes of one returned array
MEMORY_POLL_SECONDS = 0.25    # how often the group's memory and CPU time are read

# The bootstrap replaces sys.path[0] (the student's working folder, for `python -c`)
# with the project folder, so that neither `grader` nor `backend` can be shadowed
# by files in a student's folder.
BOOTSTRAP = (
    "import sys; sys.path[0] = {root!r}; "
    "from grader.sandbox.main import main; main(sys.argv[1])"
)


@dataclass
class StepResult:
    key: str
    ok: bool
    values: dict
    error: dict | None
    seconds: float


@dataclass
class CapturedOutput:
    kept: str = ""             # the beginning of the output, for reports
    total_bytes: int = 0


@dataclass
class SandboxOutcome:
    steps: dict[str, StepResult] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    finished: bool = False
    returncode: int | None = None
    stopped: str | None = None            # 'timeout' or 'memory' when the judge killed it
    time_use: TimeUse | None = None       # the time it used, and which limit stopped it
    exit_called: dict | None = None
    sandbox_error: dict | None = None
    figures_problem: str | None = None    # why figure_data recorded nothing (figures only)
    fault: str = ""
    output: CapturedOutput = field(default_factory=CapturedOutput)
    progress: dict = field(default_factory=dict)   # the sandbox's last progress report
    # When the sandbox's main() began (the clock's time) and how long its imports and
    # set-up took, as it says (benchmarks/grading_overhead.py; nothing is graded on it).
    phases: dict = field(default_factory=dict)
    seconds: float = 0.0
    time_limit: float = 0.0
    memory_mb: int = 0

    def step(self, key: str) -> StepResult | None:
        return self.steps.get(key)

    def array(self, step: str, name: str) -> np.ndarray | None:
        return self.arrays.get(f"{step}.{name}")

    def ended_early(self) -> str:
        """Why the sandbox stopped before finishing, in words ('' if it finished)."""
        where = f"; it was here:\n{self.fault}" if self.fault else ""
        if self.stopped == "timeout":
            if self.time_use is not None:
                return self.time_use.stopped_message() + where
            return (f"did not finish within the time limit of {self.time_limit:g} s and was "
                    "stopped (is there a loop that never ends, or is training very slow?)"
                    + where)
        if self.stopped == "memory":
            return f"used more than {self.memory_mb} MB of memory and was stopped" + where
        if self.exit_called is not None:
            location = self.exit_called.get("where") or "somewhere in your code"
            return (f"your code ended the process by calling os._exit("
                    f"{self.exit_called.get('code')}) ({location}); do not exit during grading")
        if self.sandbox_error is not None:
            return "the autograder failed: " + self.sandbox_error.get("message", "")
        if self.finished:
            return ""
        if self.returncode is not None and self.returncode < 0:
            name = platform_support.signal_name(-self.returncode)
            return f"the process running your code crashed ({name})" + where
        return (f"the process running your code ended unexpectedly (exit code "
                f"{self.returncode}); does your code call exit()?")

    def why_missing(self, key: str) -> str:
        """Why step ``key`` has no successful result."""
        result = self.steps.get(key)
        if result is not None and not result.ok:
            error = result.error or {}
            text = error.get("message", "failed")
            if error.get("traceback"):
                text += "\n" + error["traceback"]
            return text
        if key in self.started:
            return self.ended_early() or "did not complete"
        return "not run: " + (self.ended_early() or "an earlier step failed")


class _OutputPump(threading.Thread):
    """Copies the child's output to our stdout (up to a cap) and keeps its start."""

    def __init__(self, stream, echo: bool, shown_cap: int, kept_cap: int,
                 status: StatusLine | None = None, target=None):
        super().__init__(daemon=True)
        self.stream, self.echo, self.status = stream, echo, status
        self.target = target or sys.stdout   # where the output is shown
        self.shown_cap, self.kept_cap = shown_cap, kept_cap
        self.kept = bytearray()
        self.total = 0

    def run(self) -> None:
        notice_printed = False
        while True:
            chunk = self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536)
            if not chunk:
                break
            before, self.total = self.total, self.total + len(chunk)
            if len(self.kept) < self.kept_cap:
                self.kept += chunk[:self.kept_cap - len(self.kept)]
            if self.echo and before < self.shown_cap:
                text = chunk[:self.shown_cap - before].decode("utf-8", errors="replace")
                if self.status:
                    self.status.before_output()
                self.target.write(text)
                self.target.flush()
                if self.status:
                    self.status.after_output(text)
            if self.echo and self.total > self.shown_cap and not notice_printed:
                notice_printed = True
                self.target.write(f"\n[... more output from your code is hidden: only the "
                                  f"first {self.shown_cap // 1000} kB of each question is "
                                  "shown]\n")
                self.target.flush()

    def captured(self) -> CapturedOutput:
        return CapturedOutput(kept=self.kept.decode("utf-8", errors="replace"),
                              total_bytes=self.total)


def run_sandbox(job: dict, probes: dict[str, np.ndarray], *, project_root: Path,
                student_dir: Path, time_limit: float, memory_mb: int, echo: bool,
                shown_cap: int, kept_cap: int, confinement: Confinement | None = None,
                status: StatusLine | None = None, shown_to=None,
                stop: threading.Event | None = None) -> SandboxOutcome:
    """Run one question's student-side steps; never raises for student behaviour.

    ``confinement`` (grader/judge/confinement.py) says where the sandbox runs: inside
    bubblewrap, as the sandbox user, or neither, and ends what it leaves behind. With
    ``status``, the question's progress is shown while it runs (grader/judge/status.py).
    ``shown_to`` receives the student's output instead of stdout (a question graded
    beside others prints as one block); setting ``stop`` ends the sandbox (Ctrl-C)."""
    confinement = confinement or Confinement("none")
    arguments = dict(job=job, probes=probes, project_root=project_root,
                     student_dir=student_dir, time_limit=time_limit, memory_mb=memory_mb,
                     echo=echo, shown_cap=shown_cap, kept_cap=kept_cap,
                     confinement=confinement, status=status, shown_to=shown_to, stop=stop)
    with confinement.job_folder() as tmp:
        job_dir = Path(tmp)
        prepared = confinement.prepare(job_dir, student_dir, project_root, job["graphics"])
        project_root, student_dir = prepared.project_root, prepared.student_dir
        job = dict(job, project_root=str(project_root), student_dir=str(student_dir))
        made_dir = _write_made_modules(job_dir, job.pop("made_modules", None))
        if made_dir is not None:
            job["made_dir"] = str(made_dir)
        (job_dir / "job.json").write_text(json.dumps(job), encoding="utf-8")
        # Keys starting with "_" are the judge's secrets (e.g. a permutation): not sent.
        np.savez(job_dir / "probes.npz", **{k: v for k, v in probes.items() if not k.startswith("_")})
        command = [sys.executable, "-c", BOOTSTRAP.format(root=str(project_root)), str(job_dir)]
        env = sandbox_env(job["threads"], job["graphics"], prepared.env)
        # The sandbox dies with this process (Linux): bubblewrap sees to it itself.
        env = lifetime.without_parent(env) if prepared.dies_with_judge else lifetime.child_env(env)
        if prepared.in_bubblewrap:
            command = prepared.wrap(command)

        outcome = SandboxOutcome(time_limit=time_limit, memory_mb=memory_mb,
                                 time_use=budget(time_limit, job["threads"]))
        warm = confinement.warm
        if warm is not None and (prepared.in_bubblewrap or not warm.fits(env)
                                 or not warm.ready()):
            warm = None
        started = time.monotonic()
        with confinement.reaper.starting():    # no clean-up takes it for a stray
            sandbox = warm.spawn(job_dir, student_dir, env, project_root,
                                 _forked_user(prepared.popen)) if warm is not None else None
            if sandbox is None:      # a fresh interpreter
                process = subprocess.Popen(command, cwd=student_dir, env=env,
                                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT,
                                           **platform_support.new_process_group(),
                                           **prepared.popen)
                sandbox = platform_support.Sandbox(process, prepared.in_bubblewrap)
            confinement.reaper.started(sandbox.pid)
        pump = _OutputPump(sandbox.stdout, echo, shown_cap, kept_cap,
                           status if shown_to is None else None, shown_to)
        pump.start()
        watch = _ProgressTail(job_dir / "events.jsonl", job["question"], outcome.time_use,
                              status)
        try:
            outcome.stopped = _wait(sandbox, outcome.time_use, started, memory_mb, watch, stop)
            if outcome.stopped in ("timeout", "memory"):
                sandbox.ask_for_traceback()
        finally:
            sandbox.kill()     # workers or leftovers, even on Ctrl-C
            sandbox.wait()      # reaped here, so its exit status is ours to read
            confinement.reaper.ended(sandbox.pid)
            confinement.end_strays()
        pump.join(timeout=5)
        if status is not None:
            status.end(job["question"])
        outcome.progress = watch.latest
        outcome.seconds = time.monotonic() - started
        outcome.time_use.load = platform_support.load_average()
        outcome.returncode = sandbox.returncode()
        outcome.output = pump.captured()
        _read_results(job_dir, outcome, StudentFiles(project_root, student_dir,
                                                      made_dir=made_dir))
        # Ours: the fork could not become the sandbox, before main() (and any student
        # code) ran: it wrote nothing. Fresh interpreters from now on, this question first.
        fork_failed = (isinstance(sandbox, WarmSandbox)
                       and outcome.returncode == lifetime.FORK_FAILED
                       and not (job_dir / "events.jsonl").exists())
    if fork_failed and confinement.warm is not None:
        confinement.warm.give_up(outcome.output.kept)
        return run_sandbox(**arguments)
    return outcome


def sandbox_env(threads: int, graphics: bool, extra: dict) -> dict:
    """The environment a sandbox starts with (before its parent is named)."""
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONUNBUFFERED="1",
               PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), MALLOC_ARENA_MAX="2",
               # Threads waiting for each other sleep instead of spinning: on a busy
               # machine spinning burns CPU time that counts against the limit
               # (benchmarks/cpu_time_limits.py --cores 2 --threads 2).
               OMP_WAIT_POLICY="PASSIVE", **extra)
    env.pop("PYTHONPATH", None)
    if not graphics:
        env["MPLBACKEND"] = "Agg"   # student plt.show() calls must not block
    return env


def _forked_user(popen: dict) -> dict | None:
    """The sandbox user a fork from the warm start becomes (Popen's options, as
    Confinement.prepare gives them); None: it stays the judge's user."""
    if not popen.get("user"):
        return None
    return {"uid": popen["user"], "gid": popen["group"], "umask": popen.get("umask", 0o077)}


def _write_made_modules(job_dir: Path, modules: dict | None) -> Path | None:
    """Writes the modules made from the student's notebooks and scripts (file name ->
    text, core/handed_in.py) into ``job_dir/made``, which the sandbox puts first on
    its path; the student's own folder is never written. None when there are none."""
    if not modules:
        return None
    made = job_dir / "made"
    made.mkdir()
    made.chmod(0o755)
    for name, text in modules.items():
        (made / name).write_text(text, encoding="utf-8")
        (made / name).chmod(0o644)
    return made


def _wait(sandbox: platform_support.Sandbox, time_use: TimeUse, started: float,
          memory_mb: int, watch: "_ProgressTail", stop: threading.Event | None) -> str | None:
    """Wait for the sandbox to end; 'timeout', 'memory' or 'interrupted' when it is to
    be stopped (``time_use.hit`` then says which time limit it reached)."""
    next_usage_check = 0.0
    while not sandbox.has_ended():
        now = time.monotonic()
        cpu = None
        if now >= next_usage_check:
            next_usage_check = now + MEMORY_POLL_SECONDS
            used, cpu = sandbox.usage()
            if used is not None and used > memory_mb:
                return "memory"
        time_use.hit = time_use.observe(now - started, cpu)
        if time_use.hit is not None:
            return "timeout"
        if stop is not None and stop.is_set():
            return "interrupted"
        watch.poll(now)
        time.sleep(POLL_SECONDS)
    # Ended but not yet collected: its CPU time, and its children's, are still there.
    time_use.observe(time.monotonic() - started, sandbox.usage()[1])
    return None


class _ProgressTail:
    """Reads the sandbox's progress events as they arrive and updates the status
    line; keeps the latest one (untrusted: only numbers and short text are used)."""

    def __init__(self, path: Path, question: str, time_use: TimeUse,
                 status: StatusLine | None):
        self.path, self.question, self.time_use = path, question, time_use
        self.status = status
        self.next_read = 0.0
        self.offset = 0
        self.step = ""
        self.latest: dict = {}

    def poll(self, now: float) -> None:
        if now < self.next_read:
            return
        self.next_read = now + PROGRESS_POLL_SECONDS
        self._read_new()
        if self.status is not None:
            label = f"{self.question} {self.step}" if self.step else self.question
            counted = self.time_use.counted if self.time_use.cpu is not None else None
            self.status.update(label, self.time_use.wall, self.time_use.limit, self.latest,
                               key=self.question, counted=counted)

    def _read_new(self) -> None:
        if not _plain_file(self.path, EVENTS_LIMIT):
            return
        try:
            with open(self.path, "rb") as events:
                events.seek(self.offset)
                chunk = events.read(EVENTS_LIMIT - self.offset)
        except OSError:
            return
        complete = chunk.rfind(b"\n") + 1     # a line still being written waits
        self.offset += complete
        for line in chunk[:complete].splitlines():
            if b'"progress"' not in line and b'"started"' not in line:
                continue
            try:
                event = load_json(line)   # TooDeep is a ValueError
            except ValueError:
                continue
            if isinstance(event, dict) and isinstance(event.get("started"), str):
                self.step = event["started"][:40]
                self.latest = {}
            elif isinstance(event, dict) and isinstance(event.get("progress"), dict):
                self.latest = {key: value for key, value in event["progress"].items()
                               if isinstance(value, (int, float, type(None)))
                               or (isinstance(value, str) and len(value) < 20)}


def _read_results(job_dir: Path, outcome: SandboxOutcome, files: StudentFiles) -> None:
    """Parse events and arrays; anything malformed is ignored (it is untrusted)."""
    events_path = job_dir / "events.jsonl"
    lines = events_path.read_text(encoding="utf-8", errors="replace").splitlines() \
        if _plain_file(events_path, EVENTS_LIMIT) else []
    for line in lines:
        try:
            event = load_json(line)   # TooDeep is a ValueError
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if "started" in event:
            outcome.started.append(str(event["started"]))
        elif "step" in event:
            key = str(event["step"])
            values = event.get("values") if isinstance(event.get("values"), dict) else {}
            error = event.get("error") if isinstance(event.get("error"), dict) else None
            outcome.steps[key] = StepResult(key, bool(event.get("ok")) and error is None,
                                            values, error, float(event.get("seconds") or 0))
        elif "exit_called" in event and isinstance(event["exit_called"], dict):
            outcome.exit_called = event["exit_called"]
        elif "sandbox_error" in event and isinstance(event["sandbox_error"], dict):
            outcome.sandbox_error = event["sandbox_error"]
        elif "phases" in event and isinstance(event["phases"], dict):
            outcome.phases = {str(key)[:20]: float(value) for key, value
                              in list(event["phases"].items())[:8]
                              if isinstance(value, (int, float)) and not isinstance(value, bool)}
        elif "figures_problem" in event:
            outcome.figures_problem = str(event["figures_problem"])[:300]
        elif event.get("finished") is True:
            outcome.finished = True
    for path in job_dir.glob("*.npy"):
        if not _plain_file(path, ARRAY_LIMIT):
            continue
        try:
            outcome.arrays[path.stem] = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            continue
    fault_path = job_dir / "fault.txt"
    if _plain_file(fault_path, EVENTS_LIMIT):
        outcome.fault = _student_fault_lines(fault_path.read_text(errors="replace"), files)


def _plain_file(path: Path, limit: int) -> bool:
    """A regular file (not a link the student's code made to something else) of at
    most ``limit`` bytes: the judge reads nothing else from a job folder."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size <= limit


def _student_fault_lines(text: str, files: StudentFiles) -> str:
    """The lines of a faulthandler dump (innermost call first) that point into the
    student's files, outermost first like a traceback."""
    lines = []
    for line in text.splitlines():
        match = re.match(r'\s*File "(.+)", line (\d+) in (.+)', line)
        if match and files.contains(match.group(1)):
            lines.append(f'File "{files.short(match.group(1))}", line {match.group(2)} '
                         f'in {match.group(3).strip()}')
    return "\n".join(reversed(lines[:8]))
