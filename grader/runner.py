"""Runs one question's sandbox and collects what it left behind (judge side).

The judge never imports student code. It writes a job (settings and probe inputs)
into a temporary folder, starts ``grader.sandbox`` in a fresh interpreter and a
process group of its own, streams the child's output (capped), enforces the time
and memory limits on the whole group, and reads back events and arrays.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader import platform_support
from grader.sandbox import BOOTSTRAP
from grader.student_code import StudentFiles

POLL_SECONDS = 0.05
MEMORY_POLL_SECONDS = 0.25


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
    exit_called: dict | None = None
    sandbox_error: dict | None = None
    figures_problem: str | None = None    # why figure_data recorded nothing (figures only)
    fault: str = ""
    output: CapturedOutput = field(default_factory=CapturedOutput)
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

    def __init__(self, stream, echo: bool, shown_cap: int, kept_cap: int):
        super().__init__(daemon=True)
        self.stream, self.echo = stream, echo
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
                part = chunk[:self.shown_cap - before]
                sys.stdout.write(part.decode("utf-8", errors="replace"))
                sys.stdout.flush()
            if self.echo and self.total > self.shown_cap and not notice_printed:
                notice_printed = True
                sys.stdout.write(f"\n[... more output from your code is hidden: only the first "
                                 f"{self.shown_cap // 1000} kB of each question is shown]\n")
                sys.stdout.flush()

    def captured(self) -> CapturedOutput:
        return CapturedOutput(kept=self.kept.decode("utf-8", errors="replace"),
                              total_bytes=self.total)


def run_sandbox(job: dict, probes: dict[str, np.ndarray], *, project_root: Path,
                student_dir: Path, time_limit: float, memory_mb: int, echo: bool,
                shown_cap: int, kept_cap: int) -> SandboxOutcome:
    """Run one question's student-side steps; never raises for student behaviour."""
    with tempfile.TemporaryDirectory(prefix="grader-job-") as tmp:
        job_dir = Path(tmp)
        (job_dir / "job.json").write_text(json.dumps(job), encoding="utf-8")
        # Keys starting with "_" are the judge's secrets (e.g. a permutation): not sent.
        np.savez(job_dir / "probes.npz", **{k: v for k, v in probes.items() if not k.startswith("_")})
        command = [sys.executable, "-c", BOOTSTRAP.format(root=str(project_root)), str(job_dir)]
        env = dict(os.environ, PYTHONHASHSEED="0", PYTHONUNBUFFERED="1",
                   PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS=str(job["threads"]),
                   MKL_NUM_THREADS=str(job["threads"]), MALLOC_ARENA_MAX="2")
        env.pop("PYTHONPATH", None)
        if not job["graphics"]:
            env["MPLBACKEND"] = "Agg"   # student plt.show() calls must not block

        outcome = SandboxOutcome(time_limit=time_limit, memory_mb=memory_mb)
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=student_dir, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   **platform_support.new_process_group())
        pump = _OutputPump(process.stdout, echo, shown_cap, kept_cap)
        pump.start()
        try:
            outcome.stopped = _wait(process, time_limit, memory_mb)
            if outcome.stopped:
                platform_support.ask_for_traceback(process)
        finally:
            platform_support.kill_group(process)   # workers or leftovers, even on Ctrl-C
        process.wait()
        pump.join(timeout=5)
        outcome.seconds = time.monotonic() - started
        outcome.returncode = process.returncode
        outcome.output = pump.captured()
        _read_results(job_dir, outcome, StudentFiles(project_root, student_dir))
    return outcome


def _wait(process: subprocess.Popen, time_limit: float, memory_mb: int) -> str | None:
    deadline = time.monotonic() + time_limit
    next_memory_check = 0.0
    while process.poll() is None:
        now = time.monotonic()
        if now >= deadline:
            return "timeout"
        if now >= next_memory_check:
            next_memory_check = now + MEMORY_POLL_SECONDS
            used = platform_support.group_memory_mb(process.pid)
            if used is not None and used > memory_mb:
                return "memory"
        time.sleep(POLL_SECONDS)
    return None


def _read_results(job_dir: Path, outcome: SandboxOutcome, files: StudentFiles) -> None:
    """Parse events and arrays; anything malformed is ignored (it is untrusted)."""
    events_path = job_dir / "events.jsonl"
    lines = events_path.read_text(encoding="utf-8", errors="replace").splitlines() \
        if events_path.exists() else []
    for line in lines:
        try:
            event = json.loads(line)
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
        elif "figures_problem" in event:
            outcome.figures_problem = str(event["figures_problem"])[:300]
        elif event.get("finished") is True:
            outcome.finished = True
    for path in job_dir.glob("*.npy"):
        try:
            outcome.arrays[path.stem] = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            continue
    fault_path = job_dir / "fault.txt"
    if fault_path.exists():
        outcome.fault = _student_fault_lines(fault_path.read_text(errors="replace"), files)


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
