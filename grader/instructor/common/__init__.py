"""Names every instructor job shares: a submission and its statuses, safe file names,
the records of a bulk run's OUT folder, and the zips we write. Imports no other job."""
