"""Commands only instructors run (``python -m grader``), one package per job: intake,
grading, reports, similarity, handback, release; ``commands/`` parses and composes them."""
