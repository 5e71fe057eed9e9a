"""Benchmarks run on demand (`python -m benchmarks.<name>`); they print numbers and assert nothing about time."""
