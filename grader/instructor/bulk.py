"""Bulk grading for instructors: ``python -m grader bulk`` and ``python -m grader merge``.

Every submission is graded by the same command a student runs (``autograder.py``, a
judge process of its own with one sandbox per question), from its own temporary
copy of the student's files, against a read-only copy of the staff files made once
per run. One bad submission costs only its own row. Results go to OUTDIR:

    results/<id>.json   what the run found: submitters, status, the autograder's JSON
    output/<id>.txt     everything the autograder printed for that submission
    grades.csv          rebuilt from results/ after every run (and by ``merge``;
                        grader/instructor/bulk_reports.py)
    summary.png         totals and each question's pass rate

While a run is alive it keeps its unpacked zips, its staff copy and its job folders
in OUTDIR/.work/run-*/ and holds a lock there: a second run on the same OUTDIR refuses,
and the ``autograder.py`` processes it starts end with it, even when it is killed
(grader/instructor/work_folder.py, grader/core/lifetime.py).

Each file is written atomically. Re-running the same command skips submissions
whose result matches their files, the seed, the options and the grader version;
``--force`` regrades. A failure of our own machinery is retried once, then
recorded as ``grader-error``, never as points the student lost.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from grader import assignments
from grader.core import lifetime
from grader.core.source import PROJECT_FILES
from grader.core.table import LIMITS
from grader.instructor.bulk_reports import GRADED, GRADER_ERROR, rebuild_reports
from grader.instructor.submissions import OK, Submission, SubmissionsError, discover
from grader.instructor.work_folder import Busy, WorkFolder, read_only_staff_copy
from grader.judge import confinement, isolation
from grader.judge.data import DataProblem, JudgeData
from grader.judge.report import atomic_write
from grader.judge.status import clock

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STAFF_ROOT_FILES = PROJECT_FILES
STAFF_FOLDERS = ("grader", "data")
PROGRESS_SECONDS = 10.0


def grader_version(root: Path = PROJECT_ROOT) -> str:
    """A short digest of the grader's code: results from another version are redone."""
    digest = hashlib.sha256()
    sources = [root / name for name in STAFF_ROOT_FILES]
    sources += sorted((root / "grader").rglob("*.py"))
    for path in sources:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def files_digest(submission: Submission) -> str:
    digest = hashlib.sha256()
    for name in sorted(submission.files):
        digest.update(name.encode() + b"\0" + submission.files[name].read_bytes() + b"\0")
    return digest.hexdigest()


def safe_name(identifier: str) -> str:
    """A file name for a submission id (ids come from folder and zip names)."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in identifier) or "_"


# ------------------------------------------------------------- one submission

class Stopped(Exception):
    """The run was interrupted while this submission was graded: nothing is recorded."""


class Crew:
    """What the worker threads share: the ``autograder.py`` processes running now, and
    whether the run is stopping (Ctrl-C, SIGTERM), so that none is started or retried
    and every running one is ended."""

    STOP_SECONDS = 30.0     # for the children to stop their sandboxes and exit

    def __init__(self, work: WorkFolder):
        self.work = work
        self.stopping = threading.Event()
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    def start(self, command: list[str], **options) -> subprocess.Popen:
        with self._lock:
            if self.stopping.is_set():
                raise Stopped()
            process = subprocess.Popen(command, pass_fds=self.work.inherited_fds, **options)
            self._running.add(process)
            return process

    def finished(self, process: subprocess.Popen) -> None:
        with self._lock:
            self._running.discard(process)
        if self.stopping.is_set():
            raise Stopped()

    def stop(self) -> None:
        """End every running autograder.py: SIGTERM (each stops its sandboxes), then
        SIGKILL for any still there after ``STOP_SECONDS``."""
        with self._lock:
            self.stopping.set()
            running = list(self._running)
        for process in running:
            process.terminate()
        deadline = time.monotonic() + self.STOP_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()


class Job:
    """Grades one submission into OUTDIR (called from worker threads)."""

    def __init__(self, submission: Submission, out: Path, staff: Path, options: dict,
                 autograder_args: list[str], timeout: float, crew: Crew):
        self.submission, self.out, self.staff = submission, out, staff
        self.options, self.args, self.timeout = options, autograder_args, timeout
        self.crew = crew
        self.key = safe_name(submission.id)
        self.result_path = out / "results" / f"{self.key}.json"
        self.output_path = out / "output" / f"{self.key}.txt"

    def record(self) -> dict:
        submission = self.submission
        return {"id": submission.id, "source": str(submission.source),
                "submitters": [vars(s) for s in submission.submitters],
                "files": sorted(submission.files), "problem": submission.problem,
                "files_digest": files_digest(submission) if submission.files else "",
                **self.options}

    def up_to_date(self) -> bool:
        try:
            saved = json.loads(self.result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        expected = self.record()
        return all(saved.get(key) == value for key, value in expected.items())

    def run(self) -> dict:
        record = self.record()
        started = time.monotonic()
        if self.submission.status != OK:
            record.update(status=self.submission.status, result=None)
            atomic_write(self.output_path, self.submission.problem + "\n")
        else:
            record.update(self._grade())
        record["seconds"] = round(time.monotonic() - started, 1)
        atomic_write(self.result_path, json.dumps(record, indent=2) + "\n")
        return record

    def _grade(self) -> dict:
        transcript = []
        for attempt in (1, 2):   # our own failure is retried once
            outcome = self._attempt()
            transcript.append(outcome["output"])
            if outcome["result"] is not None and outcome["returncode"] == 0:
                atomic_write(self.output_path, "\n".join(transcript))
                return {"status": GRADED, "result": outcome["result"]}
        atomic_write(self.output_path, "\n".join(transcript))
        return {"status": GRADER_ERROR, "result": outcome["result"],
                "problem": f"the autograder failed twice on this submission (exit code "
                           f"{outcome['returncode']}); see output/{self.key}.txt"}

    def _attempt(self) -> dict:
        with tempfile.TemporaryDirectory(prefix="bulk-", dir=self.crew.work.jobs) as folder:
            student = Path(folder) / "student"
            student.mkdir()
            for name, path in self.submission.files.items():
                shutil.copyfile(path, student / name)
            results = Path(folder) / "result.json"
            command = [sys.executable, str(self.staff / "autograder.py"), "--student-dir",
                       str(student), "--json", str(results), *self.args]
            env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
            env.pop("DISPLAY", None)
            # It ends (as on SIGTERM) when this process dies, even by SIGKILL (Linux).
            process = self.crew.start(command, cwd=folder, env=lifetime.child_env(env),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL, text=True,
                                      encoding="utf-8", errors="replace")
            try:
                stdout, stderr = process.communicate(timeout=self.timeout)
                output, code = stdout + stderr, process.returncode
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, _ = process.communicate()
                output = f"{stdout}\nthe autograder ran past {self.timeout:g} s"
                code = None
            finally:
                self.crew.finished(process)
            try:
                result = json.loads(results.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                result = None
        return {"output": output, "returncode": code, "result": result}


# ------------------------------------------------------------------ commands

class Progress:
    """done/total, failures, elapsed and ETA: one line rewritten on a terminal, a
    plain line every ``PROGRESS_SECONDS`` otherwise."""

    def __init__(self, total: int, stream=None):
        self.total, self.done, self.failed = total, 0, 0
        self.stream = stream or sys.stderr
        self.started = self.last = time.monotonic()
        self.terminal = self.stream.isatty()
        self.lock = threading.Lock()
        self.shown_final = False

    def finished(self, record: dict) -> None:
        with self.lock:
            self.done += 1
            self.failed += record.get("status") != GRADED
        self.tick(force=self.terminal or self.done == self.total)

    def tick(self, force: bool = False) -> None:
        """Redraw the line on a terminal (the clock moves even while nothing
        finishes); elsewhere print one every ``PROGRESS_SECONDS``."""
        with self.lock:
            now = time.monotonic()
            if self.shown_final:
                return
            if force or self.terminal or now - self.last >= PROGRESS_SECONDS:
                self.last = now
                self.shown_final = self.done == self.total
                self._show(now)

    def _show(self, now: float) -> None:
        elapsed = now - self.started
        eta = f"about {clock(elapsed / self.done * (self.total - self.done))} left" \
            if self.done else "time left not known yet"
        line = (f"graded {self.done}/{self.total}, {self.failed} not graded normally, "
                f"{clock(elapsed)} elapsed, {eta}")
        if self.terminal:
            self.stream.write("\r\033[K" + line + ("\n" if self.done == self.total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def parse_shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes K/N, e.g. 1/4; got {text!r}")
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"--shard {text}: K must be between 1 and N")
    return k, n


def add_bulk(commands) -> None:
    parser = commands.add_parser(
        "bulk", help="grade a folder of submissions into a CSV",
        description="Grade every submission in SUBMISSIONS (a folder of per-student "
                    "folders or .zip files, or Gradescope's 'Export Submissions', unpacked "
                    "or zipped) into OUTDIR. Re-running resumes.")
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS")
    parser.add_argument("--out", type=Path, required=True, metavar="OUTDIR",
                        help="where results, grades.csv and summary.png go")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="submissions graded at once (default: the number of cores; "
                             "each sandbox uses one torch thread)")
    parser.add_argument("--seed", type=int, default=LIMITS.default_seed)
    parser.add_argument("--force", action="store_true", help="regrade everything")
    parser.add_argument("--shard", type=parse_shard, metavar="K/N",
                        help="grade only the K-th of N equal parts (combine with merge)")
    parser.add_argument("-q", "--questions", metavar="QUESTIONS",
                        help="grade only these questions, e.g. q1,q2 (default: all)")
    parser.add_argument("--time-limit-scale", type=float, default=1.0, metavar="X")
    parser.add_argument("--memory-limit", type=int, default=LIMITS.memory_mb, metavar="MB")
    parser.add_argument("--enforce-imports", action="store_true")
    parser.add_argument("--save-plots", action="store_true",
                        help="save each submission's plots under OUTDIR/plots/<id>/")
    parser.add_argument("--sandbox-user", metavar="NAME",
                        help="run student code as the unprivileged user NAME (when run as "
                             "root): it cannot read the test labels or change the grader")
    parser.add_argument("--isolation", choices=confinement.MODES, default="auto",
                        help="where student code runs, as for autograder.py (default auto: "
                             "bubblewrap where it works, chosen once for the whole run)")
    assignments.add_course_option(
        parser, "the course version or assignment of every submission (default: "
                "recognised per submission; names below)")
    parser.set_defaults(run=run_bulk, command="bulk")


def add_merge(commands) -> None:
    parser = commands.add_parser(
        "merge", help="combine bulk output folders (e.g. shards) into one",
        description="Copy the results of several bulk OUTDIRs into --out and rebuild "
                    "grades.csv and summary.png there.")
    parser.add_argument("folders", type=Path, nargs="+", metavar="OUTDIR")
    parser.add_argument("--out", type=Path, required=True, metavar="OUTDIR")
    parser.set_defaults(run=run_merge, command="merge")


def run_bulk(args) -> int:
    questions = _questions(args.questions)
    if args.jobs < 1 or args.time_limit_scale <= 0 or args.memory_limit < 256:
        print("grader bulk: --jobs must be at least 1, --time-limit-scale positive and "
              "--memory-limit at least 256", file=sys.stderr)
        return 2
    out = args.out.resolve()
    try:
        work = WorkFolder(out)
    except Busy as busy:
        print(f"grader bulk: {busy}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"grader bulk: cannot write to {out} ({error.strerror or error}); give an "
              "--out folder you may write to", file=sys.stderr)
        return 2
    try:
        with lifetime.terminate_as_interrupt():
            return _bulk(args, questions, out, work)
    finally:
        for problem in work.close():
            print(f"grader bulk: could not delete {problem}", file=sys.stderr)


def _bulk(args, questions: list[str], out: Path, work: WorkFolder) -> int:
    try:
        layout, submissions = discover(args.submissions, work.folder / "unpacked")
    except SubmissionsError as error:
        print(f"grader bulk: {error}", file=sys.stderr)
        return 2
    if args.shard:
        k, n = args.shard
        submissions = [s for index, s in enumerate(submissions) if index % n == k - 1]
    print(f"Found {len(submissions)} submissions ({layout} layout) in {args.submissions}",
          file=sys.stderr)
    staff = read_only_staff_copy(work.folder / "staff", PROJECT_ROOT, STAFF_ROOT_FILES,
                                 STAFF_FOLDERS)
    mode, problem = _choose_isolation(args.isolation, args.sandbox_user, staff, args.course)
    if problem:
        print(f"grader bulk: {problem}", file=sys.stderr)
        return 2
    options = {"seed": args.seed, "grader_version": grader_version(),
               "questions": questions, "time_limit_scale": args.time_limit_scale,
               "memory_limit": args.memory_limit, "enforce_imports": args.enforce_imports,
               "sandbox_user": args.sandbox_user, "course": args.course, "isolation": mode}
    # Parallel across submissions (--jobs); each submission's questions one at a time.
    autograder_args = ["--no-graphics", "--mute", "-j", "1", "--seed", str(args.seed),
                       "--time-limit-scale", str(args.time_limit_scale),
                       "--memory-limit", str(args.memory_limit)]
    if questions:
        autograder_args += ["-q", ",".join(questions)]
    if args.enforce_imports:
        autograder_args.append("--enforce-imports")
    autograder_args += ["--isolation", mode]
    if args.sandbox_user and mode != "none" and isolation.effective():
        autograder_args += ["--sandbox-user", args.sandbox_user]
    if args.course:
        autograder_args += ["--course", args.course]
    # Every question's limit (of the slowest assignment when each is recognised).
    chosen = [assignments.get(args.course)] if args.course else assignments.registry().values()
    timeout = 600 + max(sum(q.time_limit for q in assignment.questions)
                        for assignment in chosen) * args.time_limit_scale
    crew = Crew(work)
    jobs = []
    for submission in submissions:
        extra = []
        if args.save_plots:
            extra = ["--save-plots", str(out / "plots" / safe_name(submission.id))]
        job = Job(submission, out, staff, options, autograder_args + extra, timeout, crew)
        if args.force or not job.up_to_date():
            jobs.append(job)
    print(f"{len(submissions) - len(jobs)} already graded with these settings; grading "
          f"{len(jobs)} with {args.jobs} at a time", file=sys.stderr)
    try:
        _run_jobs(jobs, args.jobs, crew)
    except KeyboardInterrupt as stopped:
        print("\ngrader bulk: " + ("stopped (SIGTERM)" if isinstance(
              stopped, lifetime.Terminated) else "interrupted") + "; finished submissions are "
              "saved, and running the same command again grades the rest", file=sys.stderr)
        return 143 if isinstance(stopped, lifetime.Terminated) else 130
    print(rebuild_reports(out))
    print(f"wrote {out / 'grades.csv'} and {out / 'summary.png'}")
    return 0


def _choose_isolation(mode: str, sandbox_user: str | None, staff: Path,
                      course: str | None) -> tuple[str, str]:
    """Choose, once for the run, where student code runs (``--isolation``, with a trial
    sandbox, and ``--sandbox-user``), and say so once; every autograder.py is then told
    the mode chosen. Returns (the mode, '') or ('', what is wrong)."""
    if sandbox_user and isolation.effective():
        staff.chmod(0o500)   # the labels in the staff copy: root's alone
    try:
        data = JudgeData(staff / "data", assignments.get(course).data)
        chosen, notes = confinement.choose(mode, sandbox_user, staff, data)
        chosen.close()
    except (confinement.ConfinementError, isolation.IsolationError, DataProblem) as error:
        return "", str(error)
    for note in notes:
        print(f"grader bulk: note: {note}", file=sys.stderr)
    return chosen.mode, ""


def _run_jobs(jobs: list[Job], workers: int, crew: Crew) -> None:
    progress = Progress(len(jobs))
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        pending = {pool.submit(job.run) for job in jobs}
        while pending:
            done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                progress.finished(future.result())
            progress.tick()
    except BaseException:
        crew.stop()         # no submission is started or retried; running ones end
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_merge(args) -> int:
    out = args.out.resolve()
    for folder in args.folders:
        results = folder / "results"
        if not results.is_dir():
            print(f"grader merge: {folder} has no results/ folder; give folders written by "
                  "`python -m grader bulk`", file=sys.stderr)
            return 2
        for path in sorted(results.glob("*.json")):
            target = out / "results" / path.name
            if target.exists() and target.resolve() != path.resolve() \
                    and target.read_bytes() != path.read_bytes():
                print(f"grader merge: {path.name} is in two folders with different results; "
                      "merge shards of one run only", file=sys.stderr)
                return 2
            atomic_write(target, path.read_text(encoding="utf-8"))
            text = folder / "output" / (path.stem + ".txt")
            if text.is_file():
                atomic_write(out / "output" / text.name, text.read_text(encoding="utf-8"))
    print(rebuild_reports(out))
    print(f"wrote {out / 'grades.csv'} and {out / 'summary.png'}")
    return 0


def _questions(text: str | None) -> list[str]:
    if not text:
        return []
    wanted = []
    for item in text.split(","):
        name = item.strip().lower()
        name = name if name.startswith("q") else f"q{name}"
        if name not in assignments.question_ids():
            raise SystemExit(f"grader bulk: there is no question {item.strip()!r}; choose from "
                             f"{', '.join(assignments.question_ids())}")
        wanted.append(name)
    return wanted
