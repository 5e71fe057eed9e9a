"""Benchmarks: `python -m benchmarks.<name>` prints numbers."""
