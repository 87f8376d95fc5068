"""``python -m grader <command>``: the instructor commands (grader/instructor/commands/main.py)."""

import sys

from grader.instructor.commands.main import main

if __name__ == "__main__":
    sys.exit(main())
