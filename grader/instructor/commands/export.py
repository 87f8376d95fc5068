"""``python -m grader export canvas | moodle | moodle-feedback | canvas-comments``:
grades and feedback of a bulk run back to the LMS (grader/instructor/handback/)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.instructor.handback.export import (EXIT_USAGE, export_canvas,
                                               export_canvas_comments, export_moodle,
                                               export_moodle_feedback)
from grader.instructor.handback.records import ExportError
from grader.instructor.handback.sheets import SheetError


def run_export(args) -> int:
    try:
        return args.export(args)
    except (ExportError, SheetError) as error:
        print(f"grader export {args.lms}: {error}", file=sys.stderr)
        return EXIT_USAGE


def add_export(commands) -> None:
    parser = commands.add_parser(
        "export", help="grades and feedback of a bulk run back to Canvas or Moodle",
        description="Fill in the LMS's own files from a bulk run of its download (OUT), "
                    "matched on the LMS's ids; see each subcommand's --help.")
    kinds = parser.add_subparsers(title="where to", metavar="LMS")
    canvas = kinds.add_parser("canvas", help="fill Canvas's gradebook export for its import")
    canvas.add_argument("out", type=Path, metavar="OUT", help="the bulk run's folder")
    canvas.add_argument("--gradebook", type=Path, required=True, metavar="GRADEBOOK.csv",
                        help="Canvas's gradebook export (Grades > Export)")
    canvas.add_argument("--column", metavar="NAME", help="the assignment column to fill "
                        "(its name, its id, or the whole header; needed when there are several)")
    moodle = kinds.add_parser("moodle", help="fill Moodle's grading worksheet for its upload")
    moodle.add_argument("out", type=Path, metavar="OUT", help="the bulk run's folder")
    moodle.add_argument("--worksheet", type=Path, required=True, metavar="WORKSHEET.csv",
                        help="Moodle's grading worksheet (View all submissions > Download "
                             "grading worksheet)")
    for sub, default in ((canvas, "canvas-import.csv"), (moodle, "moodle-worksheet.csv")):
        sub.add_argument("--to", type=Path, metavar="FILE",
                         help=f"where to write it (default: OUT/{default})")
        sub.add_argument("--force", action="store_true", help="overwrite --to if it exists")
        sub.add_argument("--scale", action="store_true",
                         help="when the LMS's maximum differs from the run's total possible, "
                              "write total x maximum / possible (default: refuse)")
    zipped = kinds.add_parser("moodle-feedback", help="the feedback pages as the zip Moodle's "
                              "'Upload multiple feedback files in a zip' reads")
    zipped.add_argument("out", type=Path, metavar="OUT", help="the bulk run's folder")
    zipped.add_argument("zip", type=Path, metavar="FEEDBACK.zip")
    zipped.add_argument("--force", action="store_true", help="overwrite FEEDBACK.zip")
    comments = kinds.add_parser("canvas-comments", help="a text comment per student beside "
                                "the feedback pages, to paste in SpeedGrader")
    comments.add_argument("out", type=Path, metavar="OUT", help="the bulk run's folder")
    for sub, function in ((canvas, export_canvas), (moodle, export_moodle),
                          (zipped, export_moodle_feedback), (comments, export_canvas_comments)):
        sub.set_defaults(run=run_export, export=function, lms=sub.prog.split()[-1],
                         command="export")
    parser.set_defaults(run=lambda args: _no_lms(parser), command="export")


def _no_lms(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE
