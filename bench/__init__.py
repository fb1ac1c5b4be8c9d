"""Benchmarks: each module prints figures as JSON and never passes or fails."""
