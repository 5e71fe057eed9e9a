"""Logs never carry a token or a secret, whatever logs them and at whatever level."""

from __future__ import annotations

import logging

import pytest

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import SIGNING_SECRET, FrozenClock
from bot.server import redact
from tests.platform import CLIENT_SECRET, ENCRYPTION_KEY, STATE_SECRET, install, start_multi

TOKEN = "xoxb-1111-secretsecretsecretsecret"
REFRESH = "xoxe-1-refreshrefreshrefresh"
ROTATED = "xoxe.xoxb-1-rotatedrotatedrotated"


@pytest.mark.parametrize(
    "token",
    ["xoxb-1-abc", "xoxp-12-3-abc", "xoxa-2-abc", "xoxr-abc", "xoxe-1-abc", "xoxe.xoxp-1-abc", "xapp-1-A1-2-abc"],
)
def test_every_kind_of_slack_token_is_redacted(token: str) -> None:
    assert redact.redact(f"token={token}, ok") == "token=[redacted], ok"


def test_words_that_merely_look_alike_are_kept() -> None:
    assert redact.redact("xox is not a token, nor is xoxb alone") == "xox is not a token, nor is xoxb alone"


def test_a_full_run_logs_no_token_nor_secret(
    fake: FakeSlack, db_url: str, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cadence = start_multi(fake, db_url, clock)
    try:
        install(cadence, "TA", TOKEN, refresh_token=REFRESH, expires_in=60)
        fake.refresh_grants[REFRESH] = {"access_token": ROTATED, "refresh_token": REFRESH + "2", "expires_in": 43200,
                                        "token_type": "bot"}
        fake.tokens[ROTATED] = "TA"
        cadence.command("/cadence", "help", team="TA")
        cadence.command("/cadence", "nonsense", team="TA")
        cadence.slack.event({"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1"}, team="TA")
        cadence.slack.event({"type": "app_uninstalled"}, team="TA")
        cadence.settle()
        logging.getLogger("cadence.test").error("a careless line: %s and %s", TOKEN, SIGNING_SECRET)
        try:
            raise RuntimeError(f"Slack said no to {ROTATED}")
        except RuntimeError:
            logging.getLogger("cadence.test").exception("a failure")
    finally:
        cadence.stop()

    text = caplog.text
    assert "oauth.v2.access" in text  # slack_sdk's debug lines of the token exchange were captured…
    assert "[redacted]" in text  # …and what they carried was redacted
    assert "Traceback" in text
    for secret in (TOKEN, REFRESH, ROTATED, SIGNING_SECRET, CLIENT_SECRET, STATE_SECRET, ENCRYPTION_KEY):
        assert secret not in text
        assert all(secret not in record.getMessage() for record in caplog.records)
    assert "xoxb-" not in text
    assert "xoxe" not in text
