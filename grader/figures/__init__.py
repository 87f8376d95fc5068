"""Pictures: drawing saved figures (in the judge, after scoring), embedding them
in HTML, and the live plots shown while a model trains."""
