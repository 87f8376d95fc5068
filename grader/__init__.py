"""The autograder's internals and the live training plots; students can ignore this package."""
