"""Bulk grading for instructors: ``python -m grader bulk`` and ``python -m grader merge``.

Every submission is graded by the same command a student runs (``autograder.py``, a
judge process of its own with one sandbox per question), from its own temporary
copy of the student's files, against a read-only copy of the staff files made once
per run. One bad submission costs only its own row. Results go to OUTDIR:

    results/<id>.json   what the run found: submitters, status, the autograder's JSON
    output/<id>.txt     everything the autograder printed for that submission
    grades.csv          rebuilt from results/ after every run (and by ``merge``;
                        grader/instructor/reports/grades.py)
    summary.png         totals and each question's pass rate
    similarity.csv, similarity.html, similarity/
                        with --similarity, after grading: who shares code with whom
                        (grader/instructor/commands/bulk.py runs grader/instructor/
                        similarity/ after this module); never a grade

While a run is alive it keeps its unpacked zips, its staff copy and its job folders
in OUTDIR/.work/run-*/ and holds a lock there: a second run on the same OUTDIR refuses,
and the ``autograder.py`` processes it starts end with it, even when it is killed
(grader/instructor/grading/work_folder.py, grader/core/lifetime.py).

Each file is written atomically. Re-running the same command skips submissions
whose result matches their files, the seed, the options and the grader version;
``--force`` regrades. A failure of our own machinery is retried once, then
recorded as ``grader-error``, never as points the student lost.
"""

from __future__ import annotations

import hashlib
import importlib.util
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
from grader.instructor.common.submission import (GRADED, GRADER_ERROR, OK, Submission,
                                                 SubmissionsError, safe_name)
from grader.instructor.grading import shards, slurm
from grader.instructor.grading.work_folder import Busy, WorkFolder, read_only_staff_copy
from grader.instructor.intake.courses import course_note, majority, recognise_each
from grader.instructor.intake.find import AUTO, find
from grader.instructor.reports.grades import rebuild_reports
from grader.judge import confinement, isolation
from grader.judge.data import DataProblem, JudgeData
from grader.judge.report import atomic_write

PROJECT_ROOT = Path(__file__).resolve().parents[3]
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
                 autograder_args: list[str], timeout: float, crew: Crew,
                 recognised_as: str = ""):
        self.submission, self.out, self.staff = submission, out, staff
        self.recognised_as = recognised_as
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
                "recognised_as": self.recognised_as, **self.options,
                **({"lms": submission.lms} if submission.lms else {})}

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
            # Messages name the submission's files alone ("models.py"), not this copy.
            command = [sys.executable, str(self.staff / "autograder.py"), "--student-dir",
                       str(student), "--student-dir-label", "", "--json", str(results),
                       *self.args]
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
    """A tqdm bar of graded/total with rate and ETA, and the count of submissions not
    graded normally: redrawn in place on a terminal; in a log (not a terminal), a plain
    line every ``PROGRESS_SECONDS`` and one at the end."""

    def __init__(self, total: int, stream=None):
        from tqdm import tqdm
        stream = stream or sys.stderr
        self.terminal = stream.isatty()
        self.failed = 0
        self.lock = threading.Lock()
        # The size once, with a fallback: a terminal may report 0 x 0 (a bare pty), which
        # tqdm would take as no room for the bar.
        size = shutil.get_terminal_size((100, 24))
        self.bar = tqdm(total=total, unit="submission", desc="graded",
                        ncols=size.columns if self.terminal else 100, nrows=size.lines,
                        file=stream if self.terminal else _Lines(stream),
                        mininterval=0.5 if self.terminal else PROGRESS_SECONDS,
                        maxinterval=PROGRESS_SECONDS, ascii=not self.terminal)
        self.bar.set_postfix_str("0 not graded normally", refresh=False)

    def finished(self, record: dict) -> None:
        with self.lock:
            self.failed += record.get("status") != GRADED
            self.bar.set_postfix_str(f"{self.failed} not graded normally", refresh=False)
            self.bar.update(1)

    def tick(self) -> None:
        """Let the clock move while nothing finishes (tqdm redraws when due)."""
        with self.lock:
            self.bar.update(0)

    def close(self) -> None:
        with self.lock:
            self.bar.close()


class _Lines:
    """A stream for tqdm outside a terminal: each redraw becomes a line of its own
    (tqdm starts each with a carriage return, meant to overwrite the last)."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip()
        if text:
            self.stream.write(text + "\n")

    def flush(self) -> None:
        self.stream.flush()


def instructor_extras(command: str) -> str:
    """'' when the instructor extras bulk needs are installed, else what to do."""
    missing = [name for name in ("jinja2", "tqdm") if importlib.util.find_spec(name) is None]
    if not missing:
        return ""
    return (f"grader {command}: needs {' and '.join(missing)} (the instructor extras: the "
            "HTML pages and the progress bar); install them with "
            "python -m pip install -e \".[instructor]\"")


def run_bulk(args, after=None) -> int:
    """Grade the class of ``args`` (parsed by grader/instructor/commands/bulk.py) into
    ``args.out``; then, with the grades written and the submissions still unpacked,
    ``after(out, submissions, course)`` when given (``bulk --similarity``): its exit
    status is the run's. Returns the exit status."""
    questions = _questions(args.questions)
    if args.jobs is None:
        args.jobs = 1 if args.slurm else os.cpu_count() or 1
    problem = slurm_problem(args)
    if problem:
        print(f"grader bulk: {problem}", file=sys.stderr)
        return 2
    if args.jobs < 1 or args.time_limit_scale <= 0 or args.memory_limit < 256:
        print("grader bulk: --jobs must be at least 1, --time-limit-scale positive and "
              "--memory-limit at least 256", file=sys.stderr)
        return 2
    missing = instructor_extras("bulk")
    if missing:
        print(missing, file=sys.stderr)
        return 2
    if not lifetime.parent_death_supported():
        print("grader bulk: on this system, if this command is killed outright (kill -9), "
              "the autograder.py processes it started finish the submission they are "
              "grading; Ctrl-C and SIGTERM stop them at once", file=sys.stderr)
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
            return _bulk(args, questions, out, work, after)
    finally:
        for problem in work.close():
            print(f"grader bulk: could not delete {problem}", file=sys.stderr)


def _bulk(args, questions: list[str], out: Path, work: WorkFolder, after) -> int:
    try:
        found = find(args.submissions, work.folder / "unpacked", args.layout)
    except SubmissionsError as error:
        print(f"grader bulk: {error}", file=sys.stderr)
        return 2
    layout, submissions = found.layout, found.submissions
    # The class's course version, from every submission (every shard agrees on it).
    recognised = recognise_each(submissions, work.folder / "recognise")
    course = args.course or majority(recognised)
    print(course_note(course, recognised, chosen=bool(args.course)), file=sys.stderr)
    settings = {"seed": args.seed, "attempts": args.attempts,
                "grader_version": grader_version(),
                "questions": questions, "time_limit_scale": args.time_limit_scale,
                "memory_limit": args.memory_limit, "enforce_imports": args.enforce_imports,
                "sandbox_user": args.sandbox_user, "course": course}
    if args.shard:
        k, n = args.shard
        submissions = shards.parts(submissions, n, course, questions,
                                   args.time_limit_scale)[k - 1]
    how = "as --layout says" if args.layout != AUTO else "detected from the names; " \
        "--layout chooses another"
    print(f"Found {len(submissions)} submissions ({layout} layout, {how}) in "
          f"{args.submissions}", file=sys.stderr)
    for note in found.notes:
        print(f"grader bulk: note: {note}", file=sys.stderr)
    if args.slurm:
        return slurm.submit(args, submissions, settings, files_digest, out, PROJECT_ROOT)
    staff = read_only_staff_copy(work.folder / "staff", PROJECT_ROOT, STAFF_ROOT_FILES,
                                 STAFF_FOLDERS)
    mode, problem = _choose_isolation(args.isolation, args.sandbox_user, staff, course)
    if problem:
        print(f"grader bulk: {problem}", file=sys.stderr)
        return 2
    options = {**settings, "isolation": mode}
    # Parallel across submissions (--jobs); each submission's questions one at a time.
    autograder_args = ["--no-graphics", "--mute", "-j", "1", "--seed", str(args.seed),
                       "--attempts", str(args.attempts),
                       "--time-limit-scale", str(args.time_limit_scale),
                       "--memory-limit", str(args.memory_limit)]
    if questions:
        autograder_args += ["-q", ",".join(questions)]
    if args.enforce_imports:
        autograder_args.append("--enforce-imports")
    if getattr(args, "no_warm_start", False):
        autograder_args.append("--no-warm-start")
    autograder_args += ["--isolation", mode]
    if args.sandbox_user and mode != "none" and isolation.effective():
        autograder_args += ["--sandbox-user", args.sandbox_user]
    autograder_args += ["--course", course]
    # Each question may run up to its wall-clock cap (LIMITS.wall_cap_factor times its
    # limit) when the machine is busy: a run stopped sooner would be our failure.
    timeout = 600 + sum(q.time_limit for q in assignments.get(course).questions) \
        * args.time_limit_scale * LIMITS.wall_cap_factor * args.attempts
    crew = Crew(work)
    jobs = []
    for submission in submissions:
        extra = []
        if args.save_plots:
            extra = ["--save-plots", str(out / "plots" / safe_name(submission.id))]
        job = Job(submission, out, staff, options, autograder_args + extra, timeout, crew,
                  recognised_as=recognised.get(submission.id, course) if recognised.get(
                      submission.id, course) != course else "")
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
    print(rebuild_reports(out, args.feedback_figures))
    print(f"wrote {out / 'grades.csv'} and {out / 'summary.png'}")
    if after is not None:   # the grades are written: nothing after them changes one
        return after(out, submissions, course)
    return 0


def slurm_problem(args) -> str:
    """What is wrong with bulk's Slurm options ('' if nothing)."""
    if args.slurm is None:
        if args.slurm_option or args.slurm_dry_run:
            return "--slurm-option and --slurm-dry-run go with --slurm N"
        return ""
    if args.slurm < 1:
        return f"--slurm takes the number of array tasks, at least 1; got {args.slurm}"
    if args.shard:
        return ("--slurm makes the shards itself (one per task); leave out --shard")
    if args.similarity:
        return ("--similarity compares the whole class, after the merge job: once it has "
                "run, give `python -m grader similarity SUBMISSIONS --out OUTDIR`")
    return ""


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
        progress.close()


def run_merge(args) -> int:
    missing = instructor_extras("merge")
    if missing:
        print(missing, file=sys.stderr)
        return 2
    out = args.out.resolve()
    if bool(args.plan) == bool(args.folders):
        print("grader merge: give the bulk OUTDIRs to merge, or --plan OUTDIR/slurm/plan.json "
              "(a --slurm run's), not both", file=sys.stderr)
        return 2
    if args.plan:
        return slurm.merge_planned(args.plan.resolve(), out, args.feedback_figures)
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
            plots = folder / "plots" / path.stem
            if plots.is_dir() and plots.resolve() != (out / "plots" / path.stem).resolve():
                shutil.copytree(plots, out / "plots" / path.stem, dirs_exist_ok=True)
    print(rebuild_reports(out, args.feedback_figures))
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
