"""Instructor commands: ``python -m grader <command>`` (``--help`` lists them).

Each command is one ``add_<command>`` function that registers its subparser and sets
``run`` (a function taking the parsed arguments and returning the exit status) and
``command`` (its name); ``build_parser`` calls each. Exit status: 0 ok, 2 a usage
problem (the message says what to change), 3 an internal failure of ours.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from grader import assignments
from grader.instructor import bulk
from grader.instructor.gradescope import add_gradescope_bundle
from grader.instructor.lms_export import add_export
from grader.instructor.similarity_command import add_similarity

EXIT_OK, EXIT_USAGE, EXIT_INTERNAL = 0, 2, 3


def run_release(args: argparse.Namespace) -> int:
    """Build the student zip; see grader/instructor/release.py."""
    from grader.instructor import release

    try:
        output = release.build_release(args.output, force=args.force, course=args.course)
    except release.ReleaseError as error:
        print(f"grader release: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {output}")
    return EXIT_OK


def add_release(commands) -> None:
    parser = commands.add_parser(
        "release", help="build the zip that students download",
        description="Build the student zip: skeletons, autograder, data and a student "
                    "README; never tests/ or benchmarks/. Two builds are byte-identical.")
    parser.add_argument("output", type=Path, metavar="OUT.zip", help="where to write the zip")
    parser.add_argument("--force", action="store_true",
                        help="overwrite OUT.zip if it already exists")
    assignments.add_course_option(
        parser, f"which course version or assignment to ship (default: "
                f"{assignments.default_name()}; names below)", default=assignments.default_name())
    parser.set_defaults(run=run_release, command="release")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader", description="Instructor tools for the course project and the other "
                                    "assignments of the kit.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    bulk.add_bulk(commands)
    bulk.add_merge(commands)
    add_gradescope_bundle(commands)
    add_release(commands)
    add_export(commands)
    add_similarity(commands)
    return parser


def main(argv=None) -> int:
    try:
        parser = build_parser()   # reads every assignment's table
    except Exception:  # noqa: BLE001 - our own tables are broken: say so
        traceback.print_exc()
        print("grader: internal error (an assignment's table could not be loaded; a bug of "
              "ours, not of your input); please report the traceback above", file=sys.stderr)
        return EXIT_INTERNAL
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except Exception:  # a failure of ours, not of the user's input; KeyboardInterrupt passes
        traceback.print_exc()
        print(f"grader {args.command}: internal error (a bug of ours, not of your input); "
              "please report the traceback above", file=sys.stderr)
        return EXIT_INTERNAL

