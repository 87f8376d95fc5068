"""Commands only instructors run: bulk grading and its reports, the Gradescope
bundle, the student release."""
