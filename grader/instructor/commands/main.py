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

from grader.instructor.commands import bulk, calibrate, export, release, similarity

EXIT_USAGE, EXIT_INTERNAL = 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader", description="Instructor tools for the course project and the other "
                                    "assignments of the kit.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    bulk.add_bulk(commands)
    bulk.add_merge(commands)
    release.add_gradescope_bundle(commands)
    release.add_release(commands)
    export.add_export(commands)
    similarity.add_similarity(commands)
    calibrate.add_calibrate(commands)
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

