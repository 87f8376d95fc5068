"""Grading a class: bulk runs and their work folder, shards, Slurm arrays, and the run
on Gradescope's machine; each submission by ``autograder.py`` in a process of its own."""
