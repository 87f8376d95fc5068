"""Autograder for the machine-learning project.

    python autograder.py             # grade every question
    python autograder.py -q q3       # grade one question
    python autograder.py --help      # all options

Your code runs in a separate process for each question, so a crash, an endless
loop or a print storm costs only that question. The grader's internals live in
the grader/ folder; you do not need to read them.
"""

import sys

if sys.version_info < (3, 10):
    sys.exit("autograder.py needs Python 3.10 or newer; this is Python "
             f"{sys.version_info.major}.{sys.version_info.minor}.")

import signal  # noqa: E402

from grader.core import lifetime  # noqa: E402 - after the version check on purpose

# Started by `python -m grader bulk`: end (cleanly, as on SIGTERM) when it dies; asked
# for before anything else runs.
lifetime.die_with_parent(signal.SIGTERM)

from grader.judge.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
