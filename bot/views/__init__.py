"""Block Kit, built by pure functions from domain objects (and parsed back from view state)."""
