"""``python -m grader release`` (the student zip) and ``python -m grader
gradescope-bundle`` (Gradescope's autograder zip): grader/instructor/release/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader import assignments
from grader.instructor.release.gradescope_bundle import BundleError, build_bundle
from grader.instructor.release.student_zip import ReleaseError, build_release

EXIT_OK, EXIT_USAGE = 0, 2


def run_release(args: argparse.Namespace) -> int:
    """Build the student zip; see grader/instructor/release/student_zip.py."""
    try:
        output = build_release(args.output, force=args.force, course=args.course)
    except ReleaseError as error:
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


def run_gradescope_bundle(args: argparse.Namespace) -> int:
    try:
        output = build_bundle(args.output, force=args.force, course=args.course)
    except BundleError as error:
        print(f"grader gradescope-bundle: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {output}; upload it in Gradescope's 'Configure Autograder'")
    return EXIT_OK


def add_gradescope_bundle(commands) -> None:
    parser = commands.add_parser(
        "gradescope-bundle", help="build the zip to upload as Gradescope's autograder",
        description="Build Gradescope's autograder zip: setup.sh, run_autograder and the "
                    "staff files; never the skeletons, tests/ or benchmarks/. Two builds "
                    "are byte-identical.")
    parser.add_argument("output", type=Path, metavar="autograder.zip",
                        help="where to write the zip")
    parser.add_argument("--force", action="store_true",
                        help="overwrite the zip if it already exists")
    assignments.add_course_option(
        parser, "grade every submission as this course version or assignment (default: "
                "recognised from each submission's files; names below)")
    parser.set_defaults(run=run_gradescope_bundle, command="gradescope-bundle")
