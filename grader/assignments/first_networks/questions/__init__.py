"""One module per question of "first networks", each with a ``QUESTION`` definition
(grader/core/wiring.py)."""
