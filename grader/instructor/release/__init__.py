"""What instructors hand out: the student zip with its notebook handout, and the
Gradescope autograder bundle."""
