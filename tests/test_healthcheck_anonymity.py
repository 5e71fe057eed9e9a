"""A health check's answers cannot be told apart: a whole round, then a search of every Web API call, response_url
reply, the workspace export, every DEBUG log record and the answer tables for a participant next to their answer."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.devtools.harness import Cadence
from bot.server.requestlog import ContextFilter
from storage import healthcheck as store
from storage.export import export_json
from tests.test_healthcheck_flow import START, TEAM, answer, invitation, open_round, results, set_up

# Each participant's answer: ratings and a comment only they wrote.
ANSWERS = {
    "U2": (["green", "red", "amber"], "Mornings are for pairing"),
    "U3": (["red", "amber", "green"], "Deploy freeze hurt us"),
    "U4": (["amber", "green", "red"], "Quiet week, nice"),
}
# A rating as the app would carry one: a value in a payload or a repr, an emoji, a chosen option. (The invitation's
# prose "green, amber or red" asks; it tells nothing.)
RATING_WORD = re.compile(r"[\"'](green|amber|red|better|same|worse)[\"']|Rating\.|Trend\.|🟢|🟡|🔴|selected_option|"
                         r"initial_option", re.IGNORECASE)


def together(haystack: str, user: str) -> list[str]:
    """What of `user`'s answer `haystack` holds when it also names them (their id or their name)."""
    if user not in haystack and user.lower() not in haystack:
        return []
    comment = ANSWERS[user][1]
    found = [comment] if comment in haystack else []
    return found + sorted({m.group(0) for m in RATING_WORD.finditer(haystack)})


@pytest.fixture
def context_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Records carry the request's user, as in production; pytest keeps one capture handler, so the filter goes after."""
    context = ContextFilter()
    caplog.handler.addFilter(context)
    yield
    caplog.handler.removeFilter(context)


def test_no_call_export_or_log_puts_a_participant_next_to_their_answer(cadence: Cadence,
                                                                        caplog: pytest.LogCaptureFixture,
                                                                        context_logged: None) -> None:
    caplog.set_level(logging.DEBUG)
    cadence.clock.set(START)
    set_up(cadence)
    open_round(cadence)
    for user, (ratings, comment) in ANSWERS.items():
        answer(cadence, user, ratings, ["same", "better", "worse"], comment=comment)
    # U3 opens their answer again (their own modal shows it to them) and changes nothing.
    cadence.slack.click(invitation(cadence, "U3"), "healthcheck.open_answer", user="U3")
    cadence.settle()
    cadence.slack.event({"type": "app_home_opened", "user": "U2", "tab": "home"})
    cadence.settle()
    assert "you answered" in json.dumps(cadence.fake.home("U2"))
    cadence.tick(START + timedelta(hours=12))
    cadence.tick(START + timedelta(days=1))
    [posted] = results(cadence)
    for _user, (_ratings, comment) in ANSWERS.items():
        assert comment in posted.all_text
    exported = json.loads(export_json(cadence.db, team_id="T1", now=cadence.clock()))

    found = []
    for user in ANSWERS:
        for call in cadence.fake.calls():
            if call.method == "views.open" and user == "U3":
                continue  # U3's own modal, opened for U3 alone; it carries no user id (checked below)
            if hit := together(json.dumps(call.args, ensure_ascii=False), user):
                found.append(f"Web API {call.method} names {user} with {hit}")
        for response in cadence.fake.responses():
            if hit := together(json.dumps(response, ensure_ascii=False), user):
                found.append(f"response_url names {user} with {hit}")
        for table, rows in exported["tables"].items():
            for row in rows:
                if hit := together(json.dumps(row, ensure_ascii=False, default=str), user):
                    found.append(f"export {table} names {user} with {hit}")
        for record in caplog.records:
            line = record.getMessage() + " " + repr(vars(record))
            if hit := together(line, user):
                found.append(f"log {record.name} names {user} with {hit}: {record.getMessage()[:120]}")
    assert found == []

    # The modal that showed U3 their own answer names nobody.
    [own] = [c for c in cadence.fake.calls("views.open")
             if "hc.rating.0" in json.dumps(c.args) and "initial_option" in json.dumps(c.args)]
    assert not [u for u in TEAM if u in json.dumps(own.args)]
    # The answers are exported only as aggregates: no answer row, no hash.
    assert not set(store.PRIVATE_TABLES) & set(exported["tables"])
    [round_row] = exported["tables"]["health_check_results"]
    assert round_row["answers"] == 3
    assert round_row["dimensions"][0] == {"name": "Speed", "green": 1, "amber": 1, "red": 1, "better": 0, "same": 3,
                                          "worse": 0}
    with cadence.db.reading() as session:
        keys = [row.responder_key for row in session.execute(text("SELECT responder_key FROM health_responses"))]
        stored = [repr(tuple(row)) for name in store.PRIVATE_TABLES
                  for row in session.execute(text(f"SELECT * FROM {name}"))]
    assert len(keys) == 3
    assert not [key for key in keys if key in json.dumps(exported)]
    assert not [line for line in stored for user in TEAM if user in line]
