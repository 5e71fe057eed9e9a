"""Anonymity holds at every log level: with DEBUG logs, pressing "My cards" logs no card text (slack_sdk logs each
Web API request and response under the author's request context)."""

from __future__ import annotations

import logging

import pytest

from bot.devtools.harness import Cadence
from bot.server.redact import library_line
from bot.views import retro as views
from tests.test_retro_steps import add_card, board, click, start_retro

CARD = "Our deploys scare me"


def test_my_cards_in_an_anonymous_retro_logs_no_card_text_at_debug(cadence: Cadence, caplog: pytest.LogCaptureFixture
                                                                  ) -> None:
    cadence.fake.add_user("U1", "alice")
    cadence.fake.add_user("U2", "bobby")
    start_retro(cadence, user="U1", anonymous=True)
    add_card(cadence, "U2", 1, CARD)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    click(cadence, board(cadence), views.MY_CARDS, "U2")
    assert CARD in str(cadence.fake.last_view())  # the author sees the card…
    assert "views.open" in caplog.text  # …slack_sdk's debug lines were captured…
    assert CARD not in caplog.text  # …and none holds what the author wrote
    assert "Deploys" not in caplog.text
    assert "scare" not in caplog.text


def test_library_lines_keep_who_and_where_and_drop_what_was_written() -> None:
    sent = ("Sending a request - url: https://slack.com/api/chat.postMessage, query_params: {}, body_params: {}, "
            "files: {}, json_body: {'channel': 'U2', 'text': 'secret', 'blocks': [{'type': 'x'}]}, headers: {}")
    line = library_line(sent)
    assert "'channel': 'U2'" in line
    assert "secret" not in line
    assert "'type'" not in line
    # Text that mimics the line's own labels makes it unreadable: then nothing of the body is kept.
    tricky = sent.replace("'secret'", "'secret, json_body: {'")
    assert "secret" not in library_line(tricky)
    received = ('Received the following response - status: 200, headers: {"x": "y"}, '
                'body: {"ok": true, "channel": "D1", "message": {"text": "my card"}}')
    assert "my card" not in library_line(received)
    assert "'channel': 'D1'" in library_line(received)
    assert library_line("Unhandled request ({'type': 'block_actions', " + "'x': 'card' " * 100 + "})").endswith(
        "characters not logged]")
