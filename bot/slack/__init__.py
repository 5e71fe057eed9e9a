"""The Slack gateway: the one Web API client configuration, pacing, installations and their tokens, profiles."""
