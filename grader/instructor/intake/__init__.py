"""Finding the submissions to grade: folders, zips, Gradescope's export, Canvas's and
Moodle's downloads, each a peer layout behind ``find.find`` and its detection order."""
