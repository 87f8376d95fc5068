"""One module per question of "mlp-from-scratch", each with a ``QUESTION``
definition (grader/core/wiring.py)."""
