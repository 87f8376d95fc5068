"""One module per kind of question of "depth-width", each with a ``QUESTION``
definition (grader/core/wiring.py)."""
