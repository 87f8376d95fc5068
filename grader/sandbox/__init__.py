"""The sandbox: the child process that imports student code for one question
and runs its steps. Nothing here imports the judge."""
