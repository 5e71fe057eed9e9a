"""Development tooling shipped with the app: a fake Slack Web API, a request signer and an in-process harness.

Used by the test suite, the benchmarks and `cadence demo`; nothing here runs in production.
"""
