"""The judge: the process the user started (autograder.py). It prepares each
question, runs its sandbox, scores what came back and reports; it never imports
student code."""
