"""Read-only report pages (`GET /reports/<token>`): the executive digest and sprint reports as server-rendered HTML,
with their charts, for people who are not in Slack."""
