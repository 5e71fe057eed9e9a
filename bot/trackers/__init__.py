"""Jira and GitHub clients (through atlassian-python-api and githubkit), their one error type, and the webhooks."""
