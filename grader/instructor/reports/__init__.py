"""What a bulk run's OUT folder shows people: grades.csv, summary.png, the feedback
pages and index.html, rebuilt from OUT/results/ (templates/ holds the pages' Jinja2)."""
