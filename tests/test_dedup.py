"""Events API retries and repeated deliveries are acknowledged but never applied twice."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select

from bot.devtools.harness import Cadence
from storage.dedup import SIGNATURES, ProcessedEvent


def count_mentions(cadence: Cadence) -> list[str]:
    """Record every app_mention the app's listeners receive (the effect a repeat must not repeat)."""
    seen: list[str] = []
    lock = threading.Lock()

    def on_mention(event: dict[str, Any]) -> None:
        with lock:
            seen.append(event["text"])

    cadence.app.event("app_mention")(on_mention)
    return seen


def mention(text: str) -> dict[str, Any]:
    return {"type": "app_mention", "user": "U1", "text": text, "channel": "C1", "ts": "1700000000.000100"}


def test_a_retried_event_is_acked_but_applied_once(cadence: Cadence) -> None:
    seen = count_mentions(cadence)
    first = cadence.slack.event(mention("hello"), event_id="Ev0001")
    retry = cadence.slack.event(mention("hello"), event_id="Ev0001",
                                headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    again = cadence.slack.event(mention("hello"), event_id="Ev0001")
    cadence.settle()
    assert [first.status, retry.status, again.status] == [200, 200, 200]
    assert seen == ["hello"]


def test_distinct_events_and_other_workspaces_are_each_applied(cadence: Cadence) -> None:
    seen = count_mentions(cadence)
    cadence.slack.event(mention("one"), event_id="Ev0001")
    cadence.slack.event(mention("two"), event_id="Ev0002")
    cadence.slack.event(mention("other workspace"), event_id="Ev0001", team="T2")
    cadence.settle()
    assert sorted(seen) == ["one", "other workspace", "two"]
    with cadence.db.transaction() as session:
        rows = session.execute(select(ProcessedEvent.team_id, ProcessedEvent.event_id)
                               .where(ProcessedEvent.team_id != SIGNATURES)  # request signatures share the table
                               .order_by(ProcessedEvent.team_id, ProcessedEvent.event_id)).all()
    assert [tuple(r) for r in rows] == [("T1", "Ev0001"), ("T1", "Ev0002"), ("T2", "Ev0001")]


def test_simultaneous_deliveries_of_one_event_apply_it_once(cadence: Cadence) -> None:
    seen = count_mentions(cadence)
    replies: list[int] = []
    threads = [threading.Thread(target=lambda: replies.append(cadence.slack.event(mention("race"),
                                                                                 event_id="EvRace").status))
               for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cadence.settle()
    assert replies == [200] * 6
    assert seen == ["race"]


def test_commands_and_a_bad_signature_are_untouched(cadence: Cadence) -> None:
    assert cadence.command("/cadence", "help").status == 200
    assert cadence.command("/cadence", "help").status == 200
    assert cadence.slack.event(mention("forged"), event_id="Ev9", signature="v0=bad").status == 401
    with cadence.db.transaction() as session:
        assert session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.team_id != SIGNATURES)).all() == []
