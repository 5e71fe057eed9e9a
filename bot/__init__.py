"""Everything Slack: the Bolt app, listeners, Block Kit views, scheduler, server and CLI."""
