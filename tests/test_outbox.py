"""The outbox: queued with the change, delivered once, retried after a refusal, never doubled after a lost answer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Cadence
from bot.jobs import outbox as delivery
from bot.jobs.outbox import Delivered, Message, Undelivered
from storage import outbox, workspaces

TEAM = "T1"
seen: dict[str, list[Any]] = {"sent": [], "failed": []}


@delivery.renderer("test.counter")
def _render_counter(runtime: Any, args: dict[str, Any]) -> Message | None:
    with runtime.db.reading() as session:
        count = session.scalar(select(func.count()).select_from(outbox.OutboxMessage).where(
            outbox.OutboxMessage.kind == "test.note"))
    return Message(text=f"{args['label']}: {count} notes")


@delivery.after_sent("test.note")
def _note_sent(session: Any, sent: Delivered) -> None:
    seen["sent"].append((sent.key, sent.channel, sent.ts))


@delivery.on_failed("test.note")
def _note_failed(session: Any, failed: Undelivered) -> None:
    seen["failed"].append((failed.key, failed.answer.verdict.value, failed.answer.error))


@pytest.fixture(autouse=True)
def _forget() -> None:
    seen["sent"].clear()
    seen["failed"].clear()


def queue(cadence: Cadence, key: str, channel: str = "C1", **more: Any) -> None:
    with cadence.db.transaction() as session:
        outbox.add(session, team_id=TEAM, key=key, kind=more.pop("kind", "test.note"), channel=channel,
                   now=cadence.clock(), **({"text": f"note {key}"} | more))


def row(cadence: Cadence, key: str) -> outbox.OutboxMessage:
    with cadence.db.reading() as session:
        found = session.scalar(select(outbox.OutboxMessage).where(outbox.OutboxMessage.key == key))
        assert found is not None
        return found


def test_a_queued_message_goes_out_once_with_its_key_and_is_recorded(cadence: Cadence, fake: FakeSlack) -> None:
    queue(cadence, "note:1")
    queue(cadence, "note:1")  # queued twice (two processes, a rerun): one row, one message
    cadence.settle()
    cadence.settle()
    [message] = fake.messages("C1")
    assert message.text == "note note:1"
    assert message.metadata == {"event_type": "cadence_outbox", "event_payload": {"key": "note:1"}}
    stored = row(cadence, "note:1")
    assert (stored.state, stored.sent_channel, stored.sent_ts) == ("sent", "C1", message.ts)
    assert seen["sent"] == [("note:1", "C1", message.ts)]


def test_a_refused_message_is_sent_after_the_backoff_exactly_once(cadence: Cadence, fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", status=500)
    queue(cadence, "note:2")
    cadence.settle()
    assert fake.messages("C1") == []
    assert row(cadence, "note:2").state == "pending"
    cadence.clock.advance(timedelta(seconds=6))
    cadence.settle()
    assert [m.text for m in fake.messages("C1")] == ["note note:2"]


def test_a_lost_answer_does_not_double_the_message(cadence: Cadence, fake: FakeSlack) -> None:
    # Slack posts the message, then the answer is lost (a 500 on the way back): the retry finds it by its key.
    fake.fail("chat.postMessage", status=500, after_doing=True)
    queue(cadence, "note:3")
    cadence.settle()
    assert len(fake.messages("C1")) == 1
    cadence.clock.advance(timedelta(seconds=6))
    cadence.settle()
    [message] = fake.messages("C1")
    assert row(cadence, "note:3").sent_ts == message.ts
    assert fake.calls("conversations.history")


def test_a_lookup_slack_cannot_answer_now_is_tried_again_instead_of_sending_a_second_copy(
        cadence: Cadence, fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", status=500, after_doing=True)  # posted, but the answer is lost
    queue(cadence, "note:4")
    cadence.settle()
    # ...and the look for it before sending it again fails too, its retries included.
    fake.fail("conversations.history", status=503, times=3)
    cadence.clock.advance(timedelta(seconds=6))
    cadence.settle()
    assert len(fake.messages("C1")) == 1  # not sent blind
    cadence.clock.advance(timedelta(seconds=11))
    cadence.settle()
    [message] = fake.messages("C1")
    assert row(cadence, "note:4").sent_ts == message.ts


def test_a_dm_whose_process_died_after_posting_is_found_not_resent(cadence: Cadence, fake: FakeSlack) -> None:
    fake.add_user("U7", name="Ann")
    queue(cadence, "note:4", channel="U7")
    # A process claims the row, posts it and dies before recording: only the lease is left.
    with cadence.db.transaction() as session:
        [claimed] = outbox.claim_due(session, now=cadence.clock(), lease=timedelta(seconds=30))
    cadence.runtime.gateway.for_team(TEAM).post(channel="U7", text="note note:4",
                                                metadata={"event_type": "cadence_outbox",
                                                          "event_payload": {"key": claimed.key}})
    cadence.settle()
    assert len(fake.dms("U7")) == 1  # still leased
    cadence.clock.advance(timedelta(seconds=45))
    cadence.settle()
    assert len(fake.dms("U7")) == 1
    assert row(cadence, "note:4").state == "sent"


def test_an_unreachable_channel_is_given_up_and_its_hook_told(cadence: Cadence, fake: FakeSlack) -> None:
    fake.add_channel("C9", is_member=False, private=True)
    queue(cadence, "note:5", channel="C9")
    cadence.settle()
    assert fake.messages("C9") == []
    assert row(cadence, "note:5").state == "failed"
    assert seen["failed"] == [("note:5", "unreachable", "channel_not_found")]


def test_a_dead_token_marks_the_workspace_uninstalled_and_its_rows_wait(cadence: Cadence, fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", error="token_revoked")
    queue(cadence, "note:6")
    cadence.settle()
    with cadence.db.reading() as session:
        assert not workspaces.is_active(session, team_id=TEAM)
    queue(cadence, "note:7")
    cadence.settle()
    assert fake.messages("C1") == []
    assert row(cadence, "note:7").state == "pending"


def test_a_reply_waits_for_its_parent_and_lands_in_its_thread(cadence: Cadence, fake: FakeSlack) -> None:
    with cadence.db.transaction() as session:
        outbox.add(session, team_id=TEAM, key="parent", kind="test.parent", channel="C1", text="parent",
                   now=cadence.clock())
        outbox.add(session, team_id=TEAM, key="child", kind="test.child", channel="C1", text="child",
                   ref_key="parent", now=cadence.clock())
    cadence.settle()
    parent = fake.messages("C1", top_level=True)
    assert [m.text for m in parent] == ["parent"]
    assert [m.text for m in fake.messages("C1", thread_ts=parent[0].ts)] == ["child"]


def test_redraws_coalesce_and_draw_the_current_state(cadence: Cadence, fake: FakeSlack) -> None:
    with cadence.db.transaction() as session:
        outbox.add(session, team_id=TEAM, key="board", kind="test.board", channel="C1", text="board",
                   now=cadence.clock())
    cadence.settle()
    [board] = fake.messages("C1")
    for n in range(5):
        queue(cadence, f"n{n}", channel="C2")
        with cadence.db.transaction() as session:
            outbox.redraw(session, team_id=TEAM, key="redraw:board", kind="test.redraw", render="test.counter",
                          args={"label": "Board"}, ref_key="board", now=cadence.clock())
    cadence.settle()
    assert fake.message("C1", board.ts).text == "Board: 5 notes"
    assert len(fake.calls("chat.update")) == 1
    # A redraw asked for while one is in flight is drawn once more after it.
    with cadence.db.transaction() as session:
        outbox.redraw(session, team_id=TEAM, key="redraw:board", kind="test.redraw", render="test.counter",
                      args={"label": "Board"}, ref_key="board", now=cadence.clock())
        [claimed] = outbox.claim_due(session, now=cadence.clock(), lease=timedelta(seconds=30))
    queue(cadence, "n5", channel="C2")
    with cadence.db.transaction() as session:
        outbox.redraw(session, team_id=TEAM, key="redraw:board", kind="test.redraw", render="test.counter",
                      args={"label": "Board"}, ref_key="board", now=cadence.clock())
        assert outbox.mark_sent(session, claimed, now=cadence.clock(), channel="C1", ts=board.ts)
    cadence.settle()
    assert fake.message("C1", board.ts).text == "Board: 6 notes"
    assert len(fake.calls("chat.update")) == 2


def test_two_claimants_never_take_the_same_row(cadence: Cadence) -> None:
    for n in range(10):
        queue(cadence, f"k{n}")
    now = cadence.clock()
    with cadence.db.transaction() as session:
        first = outbox.claim_due(session, now=now, lease=timedelta(seconds=30), limit=6)
    with cadence.db.transaction() as session:
        second = outbox.claim_due(session, now=now, lease=timedelta(seconds=30), limit=6)
    assert len(first) == 6
    assert len(second) == 4
    assert not {r.key for r in first} & {r.key for r in second}


def test_a_renewed_claim_keeps_its_rows_and_an_abandoned_one_frees_them(cadence: Cadence) -> None:
    queue(cadence, "r1")
    lease = timedelta(seconds=20)
    with cadence.db.transaction() as session:
        [held] = outbox.claim_due(session, now=cadence.clock(), lease=lease)
    cadence.clock.advance(timedelta(seconds=15))
    with cadence.db.transaction() as session:  # the worker is alive and sending: it renews
        assert outbox.renew(session, token=held.claim_token, now=cadence.clock(), lease=lease) == 1
    cadence.clock.advance(timedelta(seconds=15))
    with cadence.db.transaction() as session:
        assert outbox.claim_due(session, now=cadence.clock(), lease=lease) == []
    cadence.clock.advance(timedelta(seconds=6))  # it died: 20 s after its last renewal the row is free
    with cadence.db.transaction() as session:
        [taken] = outbox.claim_due(session, now=cadence.clock(), lease=lease)
        assert taken.key == "r1"
        assert taken.claim_token != held.claim_token
        # The dead worker's late outcome is not recorded over the new claim's.
        assert not outbox.mark_sent(session, held, now=cadence.clock(), channel="C1", ts="1.0")


def test_many_deliveries_recorded_together_skip_a_row_another_claim_took_over(cadence: Cadence) -> None:
    for key in ("m1", "m2", "m3"):
        queue(cadence, key)
    lease = timedelta(seconds=20)
    with cadence.db.transaction() as session:
        held = {r.key: r for r in outbox.claim_due(session, now=cadence.clock(), lease=lease)}
    cadence.clock.advance(timedelta(seconds=21))  # the worker was slow: another one takes m2 over
    with cadence.db.transaction() as session:
        [taken] = outbox.claim_due(session, now=cadence.clock(), lease=lease, limit=1)
        outbox.renew(session, token=held["m1"].claim_token, now=cadence.clock(), lease=lease)
    with cadence.db.transaction() as session:
        recorded = outbox.mark_sent_many(session, [outbox.Landed(held[k], "C1", f"1.{n}") for n, k in
                                                   enumerate(("m1", "m2", "m3"))], now=cadence.clock())
    assert recorded == {"m1", "m2", "m3"} - {taken.key}
    assert row(cadence, taken.key).state == outbox.PENDING
    assert row(cadence, taken.key).claim_token == taken.claim_token
    for n, key in enumerate(("m1", "m2", "m3")):
        if key != taken.key:
            assert (row(cadence, key).state, row(cadence, key).sent_channel, row(cadence, key).sent_ts) == \
                (outbox.SENT, "C1", f"1.{n}")


def test_a_batch_claimed_but_not_started_when_the_process_stops_goes_out_at_once(cadence: Cadence,
                                                                                 fake: FakeSlack) -> None:
    # The worker's pool is busy with something else, so the batch it claims waits in its queue when stop() comes:
    # the moment a storm of votes ends just as the process stops. The clock is frozen, so a lease never runs out.
    worker = cadence.scheduler.outbox
    hold = threading.Event()
    worker._pool = ThreadPoolExecutor(max_workers=1)
    worker._pool.submit(hold.wait, 10)
    queue(cadence, "late")
    assert worker.deliver_due(wait=False) == 1
    worker.stop()
    hold.set()
    assert row(cadence, "late").lease_until is None  # given back, not left to a lease
    cadence.settle()
    assert [m.text for m in fake.messages("C1")] == ["note late"]
    assert row(cadence, "late").attempts == 1


def test_delivered_rows_are_forgotten_after_thirty_days_and_waiting_ones_never(cadence: Cadence, fake: FakeSlack) -> None:
    queue(cadence, "old")
    cadence.settle()
    fake.fail("chat.postMessage", status=500, times=20)
    queue(cadence, "waiting")
    cadence.settle()
    cadence.clock.advance(timedelta(days=31))
    delivery.forget_delivered(cadence.runtime, cadence.clock())
    with cadence.db.reading() as session:
        keys = set(session.scalars(select(outbox.OutboxMessage.key)))
    assert keys == {"waiting"}
