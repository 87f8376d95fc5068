"""``python -m grader bulk`` and ``python -m grader merge``: their options, and
``bulk --similarity`` as grading (grader/instructor/grading/bulk.py) and then the
similarity report (grader/instructor/similarity/report.py) on the submissions it
found, with the grades already written."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader import assignments
from grader.core.table import LIMITS
from grader.instructor.grading import bulk
from grader.instructor.intake.find import AUTO, LAYOUT_CHOICES
from grader.instructor.reports.feedback import FIGURE_CHOICES
from grader.instructor.similarity.engine import DEFAULT_THRESHOLD
from grader.instructor.similarity.report import after_bulk
from grader.judge import confinement


def run_bulk(args) -> int:
    problem = similarity_problem(args) or (
        f"--attempts must be at least 1; got {args.attempts}" if args.attempts < 1 else "")
    if problem:
        print(f"grader bulk: {problem}", file=sys.stderr)
        return 2
    if not args.similarity:
        return bulk.run_bulk(args)
    threshold = DEFAULT_THRESHOLD if args.similarity_threshold is None \
        else args.similarity_threshold
    return bulk.run_bulk(args, after=lambda out, submissions, course: after_bulk(
        out, submissions, course, list(args.archive), threshold))


def similarity_problem(args) -> str:
    """What is wrong with bulk's similarity options ('' if nothing), said before
    anything is graded."""
    if not args.similarity:
        if args.archive or args.similarity_threshold is not None:
            return "--archive and --similarity-threshold go with --similarity"
        return ""
    if args.shard:
        return ("--similarity compares the whole class, and a --shard run sees only its "
                "part: grade the shards, merge them, then run "
                "`python -m grader similarity SUBMISSIONS --out MERGED`")
    threshold = args.similarity_threshold
    if threshold is not None and not 0 < threshold <= 1:
        return f"--similarity-threshold takes a share between 0 and 1 (0.5 is half); got {threshold:g}"
    for folder in args.archive:
        if not folder.exists():
            return f"--archive {folder}: there is no such folder; give a folder of earlier " \
                   "submissions or public solutions, laid out as submissions"
    return ""


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
                    "folders or .zip files, Gradescope's 'Export Submissions', Canvas's "
                    "'Download Submissions' or Moodle's 'Download all submissions', "
                    "unpacked or zipped) into OUTDIR. Re-running resumes.")
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS")
    parser.add_argument("--layout", choices=LAYOUT_CHOICES, default=AUTO,
                        help="what SUBMISSIONS is (default auto: detected from the names, "
                             "and said once): folders (per-student folders or zips), "
                             "gradescope, canvas or moodle")
    parser.add_argument("--out", type=Path, required=True, metavar="OUTDIR",
                        help="where results, grades.csv, summary.png, index.html and "
                             "the feedback pages go")
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="submissions graded at once (default: the number of cores, "
                             "or 1 per task with --slurm, which asks for one CPU per job; "
                             "each sandbox uses one torch thread)")
    parser.add_argument("--seed", type=int, default=LIMITS.default_seed)
    parser.add_argument("--attempts", type=int, default=LIMITS.default_attempts, metavar="N",
                        help="autograder.py's --attempts: a question whose training check "
                             "fails near its threshold is trained again on the next seeds, "
                             "up to N attempts in all, and earns its best (default "
                             f"{LIMITS.default_attempts}; 1 grades on --seed alone; grades.csv's "
                             "retried column names the questions graded on another seed)")
    parser.add_argument("--force", action="store_true", help="regrade everything")
    parser.add_argument("--shard", type=parse_shard, metavar="K/N",
                        help="grade only the K-th of N parts of about equal cost (combine "
                             "with merge)")
    parser.add_argument("--slurm", type=int, metavar="N",
                        help="grade as a Slurm array job of N tasks (one shard each, into "
                             "OUTDIR/shards/K) and a merge job after it into OUTDIR; "
                             "running it again submits only the shards not finished")
    parser.add_argument("--slurm-option", action="append", default=[], metavar="ARG",
                        help="with --slurm: an option for sbatch, written with '=', e.g. "
                             "--slurm-option=--partition=short (repeatable; it overrides "
                             "the request the scripts make)")
    parser.add_argument("--slurm-dry-run", action="store_true",
                        help="with --slurm: write the plan and the batch scripts under "
                             "OUTDIR/slurm, and print the sbatch commands, submitting "
                             "nothing")
    parser.add_argument("-q", "--questions", metavar="QUESTIONS",
                        help="grade only these questions, e.g. q1,q2 (default: all)")
    parser.add_argument("--time-limit-scale", type=float, default=1.0, metavar="X")
    parser.add_argument("--memory-limit", type=int, default=LIMITS.memory_mb, metavar="MB")
    parser.add_argument("--enforce-imports", action="store_true")
    parser.add_argument("--save-plots", action="store_true",
                        help="save each submission's plots under OUTDIR/plots/<id>/ "
                             "(the feedback pages show them)")
    _add_feedback_figures(parser)
    parser.add_argument("--sandbox-user", metavar="NAME",
                        help="run student code as the unprivileged user NAME (when run as "
                             "root): it cannot read the test labels or change the grader")
    parser.add_argument("--isolation", choices=confinement.MODES, default="auto",
                        help="where student code runs, as for autograder.py (default auto: "
                             "bubblewrap where it works, chosen once for the whole run)")
    parser.add_argument("--no-warm-start", action="store_true",
                        help="as for autograder.py: start every question's sandbox as a fresh "
                             "Python (the same grades; docs/isolation.md#the-warm-start)")
    parser.add_argument("--similarity", action="store_true",
                        help="after grading, compare every pair of submissions' code (the "
                             "skeleton's left out) into OUTDIR/similarity.csv and "
                             "similarity.html, linked from index.html; it never changes a "
                             "grade (not with --shard: run `python -m grader similarity` "
                             "after merge)")
    parser.add_argument("--similarity-threshold", type=float, metavar="X",
                        help="with --similarity: flag a pair-file when the larger of its "
                             "two shares of matching code reaches X, between 0 and 1 "
                             f"(default {DEFAULT_THRESHOLD:g})")
    parser.add_argument("--archive", type=Path, action="append", default=[], metavar="DIR",
                        help="with --similarity: earlier terms or public solutions, laid "
                             "out as submissions, to compare each student with "
                             "(repeatable; never compared among themselves)")
    assignments.add_course_option(
        parser, "the course version or assignment every submission is graded as "
                "(default: the one most submissions are recognised as; names below)")
    parser.set_defaults(run=run_bulk, command="bulk")


def add_merge(commands) -> None:
    parser = commands.add_parser(
        "merge", help="combine bulk output folders (e.g. shards) into one",
        description="Copy the results of several bulk OUTDIRs into --out and rebuild "
                    "grades.csv and summary.png there. For a similarity report of the "
                    "whole class, run `python -m grader similarity` on the submissions "
                    "into the merged folder afterwards (index.html then links it).")
    parser.add_argument("folders", type=Path, nargs="*", metavar="OUTDIR")
    parser.add_argument("--out", type=Path, required=True, metavar="OUTDIR")
    parser.add_argument("--plan", type=Path, metavar="PLAN",
                        help="the plan a --slurm run wrote (OUTDIR/slurm/plan.json): merge "
                             "each shard's own submissions from OUTDIR/shards/K and list "
                             "the shards not finished and the submissions not graded")
    _add_feedback_figures(parser)
    parser.set_defaults(run=bulk.run_merge, command="merge")


def _add_feedback_figures(parser) -> None:
    parser.add_argument("--feedback-figures", choices=FIGURE_CHOICES, default="key",
                        help="which saved figures each feedback page shows: each "
                             "question's key figure (default), all, or none")
