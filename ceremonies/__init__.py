"""The domain of Cadence: rules, state changes and schedule arithmetic, free of Slack and of the database."""
