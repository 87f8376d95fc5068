"""One module per question: make_probes (judge), run_in_sandbox (sandbox), score (judge)."""
