"""Scheduled work: the clock that ticks, and each ceremony's jobs."""
