"""``python -m grader``: the command line, one module per command, each parsing its
arguments and composing the jobs of the other packages (``main.main`` is the entry)."""
