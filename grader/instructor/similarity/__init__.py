"""Which submissions share code: tokens and fingerprints, the engine, the matching
regions, the results, and the report (similarity.csv and its pages). Never a grade."""
