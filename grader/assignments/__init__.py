"""What the grader grades: one package per assignment, each a table of questions
and the question modules it points to."""
