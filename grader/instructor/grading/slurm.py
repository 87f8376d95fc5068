"""``python -m grader bulk SUBMISSIONS --out OUT --slurm N``: the class as a Slurm array.

The command runs where the instructor types it (a cluster's login node). It finds the
submissions once, chooses the course version once, splits the class into N parts of
about equal cost (grader/instructor/grading/shards.py) and writes, under OUT/slurm/:

    plan.json       each shard's submissions (id, result file, files' digest) and the
                    settings a result must have been graded with to count
    grade.sbatch    the array task: ``bulk --shard K/N`` into OUT/shards/K, one CPU
                    per --jobs, memory from --memory-limit, a time limit long enough
                    for every question of its part to use its whole time limit
    merge.sbatch    ``merge --plan`` into OUT: grades.csv, the pages, the summary,
                    as a single-machine run writes them, and the list of what is
                    not graded
    jobs.json       the job ids last submitted
    logs/           shard-K.txt and merge.txt (appended to by every attempt)

then submits the array with ``sbatch`` and the merge job after it (``afterany``: it
runs whether the tasks finished, failed, were cancelled or ran out of time).

A shard is finished when each of its submissions has a result in OUT/shards/K/results
graded from the same files with the same settings; running the same command again
submits only the shards that are not (each task then skips what it already graded),
or merges at once when every shard is finished.
"""

from __future__ import annotations

import json
import math
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from grader.instructor.common.submission import safe_name
from grader.instructor.grading.shards import cost, parts
from grader.instructor.reports.grades import rebuild_reports
from grader.judge.report import atomic_write

SBATCH, SQUEUE = "sbatch", "squeue"
TASK_OVERHEAD_MINUTES = 15        # finding the class, the staff copy, the sandbox trial
PROCESS_MB = 1024                 # a submission's judge and autograder.py, beside the sandbox
MERGE_REQUEST = ("--cpus-per-task=1", "--mem=2G", "--time=60")
SETTINGS_KEYS = ("seed", "grader_version", "questions", "time_limit_scale", "memory_limit",
                 "enforce_imports", "sandbox_user", "course")


class SlurmError(Exception):
    """Slurm refused something; the message says what and what to do."""


# ------------------------------------------------------------------ the plan

def folders(out: Path) -> dict[str, Path]:
    slurm = out / "slurm"
    return {"slurm": slurm, "plan": slurm / "plan.json", "jobs": slurm / "jobs.json",
            "grade": slurm / "grade.sbatch", "merge": slurm / "merge.sbatch",
            "logs": slurm / "logs", "shards": out / "shards"}


def plan_of(submissions, n: int, settings: dict, digest, command: str,
            scale: float) -> dict:
    """Which submissions each of the N shards grades, and what counts as graded."""
    split = parts(submissions, n, settings["course"], settings["questions"], scale)
    shards = {}
    for number, part in enumerate(split, start=1):
        shards[str(number)] = [{"id": s.id, "key": safe_name(s.id),
                                "files_digest": digest(s) if s.files else ""} for s in part]
    return {"n": n, "settings": {key: settings[key] for key in SETTINGS_KEYS},
            "command": command, "shards": shards}


def graded(result: Path, entry: dict, settings: dict) -> dict | None:
    """The record in ``result`` if it is this entry's, from the same files and with the
    same settings; else None (missing, broken, stale, another course...)."""
    try:
        saved = json.loads(result.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("id") != entry["id"] \
            or saved.get("files_digest", "") != entry["files_digest"]:
        return None
    if any(saved.get(key) != value for key, value in settings.items()):
        return None
    return saved


def missing(plan: dict, shards: Path) -> dict[str, list[str]]:
    """Each unfinished shard's number -> the ids of its submissions not graded."""
    left = {}
    for number, entries in plan["shards"].items():
        results = shards / number / "results"
        ids = [entry["id"] for entry in entries
               if graded(results / f"{entry['key']}.json", entry, plan["settings"]) is None]
        if ids:
            left[number] = ids
    return left


def array_spec(numbers: list[int]) -> str:
    """'1-3,5' for [1, 2, 3, 5]."""
    spans, numbers = [], sorted(numbers)
    start = previous = numbers[0]
    for number in numbers[1:] + [None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        spans.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return ",".join(spans)


# ----------------------------------------------------------------- the scripts

def task_minutes(costs_seconds: float, jobs: int) -> int:
    """Enough for every question of a part to run to its time limit, ``jobs`` at once."""
    return TASK_OVERHEAD_MINUTES + math.ceil(costs_seconds / jobs / 60)


def _percent_escaped(path: Path) -> str:
    return str(path).replace("%", "%%")     # sbatch reads %j, %a... in file names


def grade_script(task: list[str], n: int, jobs: int, memory_mb: int, minutes: int,
                 root: Path, shards: Path) -> str:
    """The array task's batch script; ``task`` is bulk's command line without --out and
    --shard (the script adds them from the task's number)."""
    line = shlex.join(task)
    return "\n".join([
        "#!/bin/bash",
        "# Written by `python -m grader bulk ... --slurm`: one shard of the class per task.",
        "#SBATCH --job-name=grader-bulk",
        f"#SBATCH --cpus-per-task={jobs}",
        f"#SBATCH --mem={jobs * (memory_mb + PROCESS_MB)}M",
        f"#SBATCH --time={minutes}",
        "#SBATCH --open-mode=append",
        "set -u",
        f"cd {shlex.quote(str(root))}",
        'K="$SLURM_ARRAY_TASK_ID"',
        'echo "== shard $K of ' + str(n) + ': job ${SLURM_ARRAY_JOB_ID}_$K on $(hostname), '
        '$(date)"',
        f'exec {line} --out {shlex.quote(str(shards))}/"$K" --shard "$K/{n}"',
        ""])


def merge_script(merge: list[str], root: Path) -> str:
    return "\n".join([
        "#!/bin/bash",
        "# Written by `python -m grader bulk ... --slurm`: merges the shards into one",
        "# folder once the array has ended, and lists what is not graded.",
        "#SBATCH --job-name=grader-merge",
        *(f"#SBATCH {option}" for option in MERGE_REQUEST),
        "#SBATCH --open-mode=append",
        "set -u",
        f"cd {shlex.quote(str(root))}",
        'echo "== merge: job $SLURM_JOB_ID on $(hostname), $(date)"',
        f"exec {shlex.join(merge)}",
        ""])


# ------------------------------------------------------------------ submitting

def queued(jobs_file: Path) -> list[str]:
    """Lines of squeue for the jobs last submitted that are still in the queue."""
    try:
        jobs = json.loads(jobs_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    ids = [str(jobs[key]) for key in ("array", "merge") if jobs.get(key)]
    if not ids or shutil.which(SQUEUE) is None:
        return []
    process = subprocess.run([SQUEUE, "-h", "-j", ",".join(ids), "-o", "%i %T"],
                             capture_output=True, text=True)
    # squeue fails on ids it no longer knows (jobs that ended long ago): none queued.
    return process.stdout.split("\n") if process.returncode == 0 and \
        process.stdout.strip() else []


def sbatch(arguments: list[str]) -> str:
    """Submit; the job id."""
    try:
        process = subprocess.run([SBATCH, "--parsable", *arguments], capture_output=True,
                                 text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SlurmError(f"sbatch could not be run ({error})") from None
    if process.returncode != 0:
        said = (process.stderr or process.stdout).strip() or f"exit code {process.returncode}"
        raise SlurmError(f"sbatch refused the job: {said}")
    return process.stdout.strip().split(";")[0]


def submit(args, submissions, settings: dict, digest, out: Path, root: Path) -> int:
    """Write the plan and the scripts, and submit the shards not finished (all of them
    with --force) and the merge job; with --slurm-dry-run, only write and say."""
    where = folders(out)
    n, jobs = args.slurm, args.jobs
    command = shlex.join(["python", "-m", "grader", *sys.argv[1:]])
    plan = plan_of(submissions, n, settings, digest, command, args.time_limit_scale)
    costs = {s.id: cost(s, settings["course"], settings["questions"], args.time_limit_scale)
             for s in submissions}
    waiting = queued(where["jobs"])
    if waiting and not args.slurm_dry_run:
        print("grader bulk: the jobs this folder's last --slurm run submitted are still in "
              f"the queue ({'; '.join(line for line in waiting if line)}); wait for them "
              f"(squeue -j {_ids(where['jobs'])}) or cancel them (scancel), then run this "
              "again", file=sys.stderr)
        return 2
    left = missing(plan, where["shards"])
    todo = sorted(int(k) for k in plan["shards"]) if args.force else sorted(map(int, left))
    where["logs"].mkdir(parents=True, exist_ok=True)
    atomic_write(where["plan"], json.dumps(plan, indent=2) + "\n")
    python = sys.executable
    task = [python, "-m", "grader", *bulk_arguments(args, settings)]
    longest = max((sum(costs[e["id"]] for e in plan["shards"][str(k)]) for k in
                   (todo or [1])), default=0.0)
    minutes = task_minutes(longest, jobs)
    atomic_write(where["grade"], grade_script(task, n, jobs, args.memory_limit, minutes,
                                              root, where["shards"]))
    merge = [python, "-m", "grader", "merge", "--plan", str(where["plan"]), "--out", str(out),
             "--feedback-figures", args.feedback_figures]
    atomic_write(where["merge"], merge_script(merge, root))
    sizes = ", ".join(f"{k}: {len(plan['shards'][k])}" for k in plan["shards"])
    print(f"grader bulk: {len(submissions)} submissions in {n} shards of about equal cost "
          f"(submissions per shard: {sizes}); plan and scripts in {where['slurm']}",
          file=sys.stderr)
    if not todo:
        if args.slurm_dry_run:
            print("grader bulk: --slurm-dry-run: every shard is graded already (--force "
                  "regrades); this merges them:\n  " + shlex.join(merge))
            return 0
        print("grader bulk: every shard is graded already (--force regrades); merging "
              "them here", file=sys.stderr)
        return merge_planned(where["plan"], out, args.feedback_figures)
    shard_word = "shard" if len(todo) == 1 else "shards"
    array = [f"--array={array_spec(todo)}",
             f"--output={_percent_escaped(where['logs'])}/shard-%a.txt",
             *args.slurm_option, str(where["grade"])]
    after = [f"--output={_percent_escaped(where['logs'])}/merge.txt",
             *args.slurm_option, str(where["merge"])]
    if args.slurm_dry_run:
        print(f"grader bulk: --slurm-dry-run: nothing submitted; {len(todo)} {shard_word} to "
              f"grade ({array_spec(todo)}), each task at most {minutes} min. To submit by "
              "hand:\n  " + shlex.join([SBATCH, *array]) + "\n  "
              + shlex.join([SBATCH, "--dependency=afterany:ARRAY_JOB_ID", *after]))
        return 0
    if shutil.which(SBATCH) is None:
        print("grader bulk: --slurm needs Slurm's sbatch, which is not on PATH here; run "
              "this on the cluster's login node, or give --slurm-dry-run to write the "
              f"scripts only ({where['slurm']})", file=sys.stderr)
        return 2
    try:
        array_id = sbatch(array)
    except SlurmError as error:
        print(f"grader bulk: {error}. Change the request with --slurm-option (e.g. "
              "--slurm-option=--partition=NAME, --slurm-option=--time=HH:MM:SS) or more "
              "shards, and run the same command again", file=sys.stderr)
        return 2
    try:
        merge_id = sbatch([f"--dependency=afterany:{array_id}", *after])
    except SlurmError as error:
        atomic_write(where["jobs"], json.dumps({"array": array_id}) + "\n")
        print(f"grader bulk: array job {array_id} is submitted, but the merge job is not "
              f"({error}); once the array has ended, merge with:\n  "
              + shlex.join(merge), file=sys.stderr)
        return 1
    atomic_write(where["jobs"], json.dumps({"array": array_id, "merge": merge_id,
                                            "shards": todo}) + "\n")
    resumed = "" if len(todo) == n else f" (the {n - len(todo)} others are graded)"
    print(f"Submitted array job {array_id}: {shard_word} {array_spec(todo)} of {n}"
          f"{resumed}, each task at most {minutes} min\n"
          f"Submitted job {merge_id}: the merge, after the array ends\n"
          f"  watch:   squeue -j {array_id},{merge_id}\n"
          f"  logs:    {where['logs']}/shard-K.txt, {where['logs']}/merge.txt\n"
          f"  results: {out / 'grades.csv'} and {out / 'index.html'} once job {merge_id} "
          "has run\n"
          f"  resume:  {command}\n"
          "           (after a task failed, was preempted or ran out of time: it submits "
          "only the shards not finished)")
    return 0


def _ids(jobs_file: Path) -> str:
    try:
        jobs = json.loads(jobs_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return ",".join(str(jobs[key]) for key in ("array", "merge") if jobs.get(key))


def bulk_arguments(args, settings: dict) -> list[str]:
    """bulk's command line for one task (the script adds --out and --shard): the same
    options, the course chosen once for the whole class."""
    line = ["bulk", str(args.submissions.resolve()), "--layout", args.layout,
            "--course", settings["course"], "--jobs", str(args.jobs),
            "--seed", str(args.seed), "--attempts", str(args.attempts),
            "--time-limit-scale", repr(args.time_limit_scale),
            "--memory-limit", str(args.memory_limit), "--isolation", args.isolation,
            "--feedback-figures", args.feedback_figures]
    if settings["questions"]:
        line += ["-q", ",".join(settings["questions"])]
    for flag, on in (("--enforce-imports", args.enforce_imports),
                     ("--save-plots", args.save_plots), ("--force", args.force),
                     ("--no-warm-start", getattr(args, "no_warm_start", False))):
        if on:
            line.append(flag)
    if args.sandbox_user:
        line += ["--sandbox-user", args.sandbox_user]
    return line


# -------------------------------------------------------------------- merging

def merge_planned(plan_path: Path, out: Path, figures: str) -> int:
    """``merge --plan``: each shard's own submissions into OUT, what is not graded
    listed (and its earlier result, if any, taken out of OUT: a grade must come from
    the files handed in now). 0 when the whole class is graded, 1 when not."""
    try:
        plan = json.loads(plan_path.read_text(encoding="utf-8"))
        shards_by_number = plan["shards"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"grader merge: {plan_path} is not a plan a --slurm run wrote ({error}); "
              "give OUT/slurm/plan.json", file=sys.stderr)
        return 2
    shards = plan_path.parent.parent / "shards"
    logs = plan_path.parent / "logs"
    not_graded: dict[str, list[str]] = {}
    for number, entries in shards_by_number.items():
        folder = shards / number
        for entry in entries:
            result = folder / "results" / f"{entry['key']}.json"
            target = out / "results" / f"{entry['key']}.json"
            if graded(result, entry, plan["settings"]) is None:
                not_graded.setdefault(number, []).append(entry["id"])
                for stale in (target, out / "output" / f"{entry['key']}.txt"):
                    stale.unlink(missing_ok=True)
                continue
            if target.resolve() != result.resolve():
                atomic_write(target, result.read_text(encoding="utf-8"))
            text = folder / "output" / f"{entry['key']}.txt"
            if text.is_file():
                atomic_write(out / "output" / text.name, text.read_text(encoding="utf-8"))
            plots = folder / "plots" / entry["key"]
            if plots.is_dir():
                shutil.copytree(plots, out / "plots" / entry["key"], dirs_exist_ok=True)
    total = sum(len(entries) for entries in shards_by_number.values())
    print(rebuild_reports(out, figures))
    print(f"wrote {out / 'grades.csv'} and {out / 'summary.png'}")
    if not not_graded:
        print(f"grader merge: all {len(shards_by_number)} shards are complete: {total} of "
              f"{total} submissions graded")
        return 0
    for number, ids in sorted(not_graded.items(), key=lambda item: int(item[0])):
        size = len(shards_by_number[number])
        print(f"grader merge: shard {number} is incomplete: {len(ids)} of {size} "
              f"submissions not graded ({', '.join(ids)}); its log: "
              f"{logs / f'shard-{number}.txt'}")
    count = sum(len(ids) for ids in not_graded.values())
    print(f"grader merge: {count} of {total} submissions are not graded, so grades.csv "
          f"lists {total - count}. Run the same command again; it submits only the "
          f"shards not finished:\n  {plan.get('command', 'python -m grader bulk ... --slurm N')}")
    return 1
