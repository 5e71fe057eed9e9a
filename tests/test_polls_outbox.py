"""Polls through the outbox: a refused poll tells its creator, a rate-limited redraw arrives once, closings too."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.devtools.harness import Cadence
from storage import outbox
from storage import polls as store
from tests.test_polls import choose, counts, the_poll


def test_a_poll_in_a_channel_without_the_app_is_forgotten_and_its_creator_told_what_to_do(cadence: Cadence) -> None:
    cadence.fake.add_channel("C9", is_member=False, private=True)
    cadence.command("/poll", '"Lunch?" "Pizza" "Sushi"', user="U1", channel="C9")
    assert cadence.fake.messages("C9") == []
    # Told at once, in one line through the command's response_url, before anything is stored.
    told = [r["text"] for r in cadence.fake.responses()]
    assert len(told) == 1
    assert "/invite @Cadence" in told[0]
    with cadence.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(store.Poll)) == 0
    cadence.tick(cadence.clock() + timedelta(hours=1))
    assert cadence.fake.dms("U1") == []


def test_a_refused_redraw_is_delivered_exactly_once_after_the_back_off(cadence: Cadence) -> None:
    cadence.command("/poll", '"Q?" "A" "B"', user="U1")
    poll = the_poll(cadence)
    updates = len(cadence.fake.calls("chat.update"))
    cadence.fake.fail("chat.update", error="internal_error")
    choose(cadence, poll, "A", user="U2")
    choose(cadence, poll, "B", user="U3")
    assert counts(the_poll(cadence)) == {"A": "0 (0%)", "B": "0 (0%)"}
    cadence.clock.advance(timedelta(seconds=4))
    cadence.settle()
    assert counts(the_poll(cadence)) == {"A": "0 (0%)", "B": "0 (0%)"}
    cadence.clock.advance(timedelta(seconds=1))
    cadence.settle()
    assert counts(the_poll(cadence)) == {"A": "1 (50%)", "B": "1 (50%)"}
    assert len(cadence.fake.calls("chat.update")) - updates == 2  # the refused one, then one with both votes
    cadence.tick(cadence.clock() + timedelta(minutes=10))
    assert len(cadence.fake.calls("chat.update")) - updates == 2


def test_a_poll_closes_on_time_once_even_when_its_job_runs_twice(cadence: Cadence) -> None:
    cadence.command("/poll", '"Q?" "A" "B" --close 1h', user="U1")
    updates = len(cadence.fake.calls("chat.update"))
    later = cadence.clock() + timedelta(hours=1)
    cadence.clock.set(later)
    for job in cadence.scheduler.jobs:
        job(cadence.runtime, later)
        job(cadence.runtime, later)
    cadence.settle()
    assert "Poll closed" in the_poll(cadence).all_text
    with cadence.db.transaction() as session:
        poll_id = session.scalar(select(store.Poll.id))
        assert outbox.state_of(session, key=f"redraw:polls.poll:{poll_id}") == outbox.SENT
    assert len(cadence.fake.calls("chat.update")) - updates == 1
