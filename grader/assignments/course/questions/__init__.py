"""One module per question, each with a ``QUESTION`` definition (grader/core/wiring.py):
probes (judge), steps (sandbox) and verdicts (judge), matched to the table by check key."""
