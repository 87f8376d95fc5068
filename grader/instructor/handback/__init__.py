"""Grades and feedback of a bulk run back to the LMS (``python -m grader export``):
Canvas's gradebook and comments, Moodle's worksheet and feedback zip."""
