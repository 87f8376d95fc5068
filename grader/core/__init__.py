"""Plain definitions every process loads: question wiring and results. Imports
nothing else of the grader."""
