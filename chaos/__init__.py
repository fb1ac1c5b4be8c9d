"""Chaos suite: the real daemon (`monitor run`, real SQLite) against local servers that fail on command, killed
with SIGKILL at random moments; at the end, every alert must have arrived, duplicates only where a crash fell
between a send and its mark. Run `python -m chaos [--quick]` (or `make chaos`)."""
