"""Exactly once: two schedulers with their own engines on one database send each prompt, reminder and close once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from bot.devtools.harness import Cadence
from bot.jobs.scheduler import Scheduler
from bot.server.runtime import Runtime
from storage import outbox
from storage import standup as store
from storage.db import Database
from tests.test_standup_flow import set_up, team, utc

USERS = tuple(f"U{n:03d}" for n in range(1, 25))


def second_scheduler(cadence: Cadence) -> tuple[Scheduler, Database]:
    """Another app process: the same settings and clock, a Database (engine and pool) of its own."""
    database = Database(cadence.runtime.settings.database_url)
    runtime = Runtime(settings=cadence.runtime.settings, db=database, clock=cadence.runtime.clock)
    return Scheduler(runtime), database


def arrange(cadence: Cadence) -> None:
    team(cadence)
    for user in USERS:
        cadence.fake.add_user(user, tz="Europe/Berlin")
    set_up(cadence, users=USERS)


def posts_by_channel(cadence: Cadence) -> Counter[str]:
    return Counter(c.args["channel"] for c in cadence.fake.calls("chat.postMessage"))


def run_together(*schedulers: Scheduler) -> None:
    barrier = threading.Barrier(len(schedulers))

    def run(scheduler: Scheduler) -> None:
        barrier.wait()
        scheduler.tick()
        scheduler.outbox.drain()  # each process delivers what is due, as its delivery loop would

    threads = [threading.Thread(target=run, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def test_two_schedulers_one_after_the_other_send_each_prompt_once(cadence: Cadence) -> None:
    arrange(cadence)
    other, database = second_scheduler(cadence)
    try:
        cadence.clock.set(utc(2026, 12, 1, 8, 30))
        for scheduler in (cadence.scheduler, other, cadence.scheduler):
            scheduler.tick()
            scheduler.outbox.drain()
    finally:
        database.dispose()
    posts = posts_by_channel(cadence)
    assert {user: posts[user] for user in USERS} == dict.fromkeys(USERS, 1)
    assert posts["C1"] == 1  # the day's report parent


def test_two_schedulers_at_the_same_moment_send_each_prompt_reminder_and_close_once(cadence: Cadence) -> None:
    arrange(cadence)
    other, database = second_scheduler(cadence)
    try:
        for moment in (utc(2026, 12, 1, 8, 30), utc(2026, 12, 1, 10, 30), utc(2026, 12, 1, 16, 0)):
            cadence.clock.set(moment)
            run_together(cadence.scheduler, other)
    finally:
        database.dispose()
    posts = posts_by_channel(cadence)
    assert {user: posts[user] for user in USERS} == dict.fromkeys(USERS, 2)  # the prompt and one reminder
    assert posts["C1"] == 1
    parent = cadence.fake.messages("C1", top_level=True)[0]
    assert "Did not answer" in parent.all_text
    assert len(cadence.fake.calls("chat.update")) == 1  # the close, once


def test_a_crash_between_claim_and_send_is_delivered_once_after_the_lease(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    crashed_at = utc(2026, 12, 1, 8, 30)
    cadence.clock.set(crashed_at)
    cadence.scheduler.tick()  # the job queues the prompt and the parent...
    with cadence.db.transaction() as session:  # ...and a process claims them and dies before sending them
        claimed = outbox.claim_due(session, now=crashed_at, lease=timedelta(minutes=2))
        standup = store.get_standup(session, team_id="T1", channel_id="C1")
        assert standup is not None
    assert f"standup.prompt:{standup.id}:U1:2026-12-01" in {row.key for row in claimed}
    cadence.tick(crashed_at + timedelta(minutes=1))
    assert cadence.fake.dms("U1") == []
    cadence.tick(crashed_at + timedelta(minutes=3))
    cadence.tick(crashed_at + timedelta(minutes=4))
    assert len(cadence.fake.dms("U1")) == 1
    assert len(cadence.fake.messages("C1", top_level=True)) == 1
