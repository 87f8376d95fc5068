"""Question code that assignments share: sandbox steps run it beside student
code, the judge its verdicts."""
