"""``python -m grader <command>``: the instructor commands (grader/instructor/commands.py)."""

import sys

from grader.instructor.commands import main

if __name__ == "__main__":
    sys.exit(main())
