"""Benchmarks, run on demand: `python -m benchmarks.run` prints one table (see benchmarks/README.md)."""
