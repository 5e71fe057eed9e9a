"""Uninstalling stops every scheduled job of every ceremony for that workspace at once; the other one goes on.

Both workspaces run every ceremony; TA uninstalls (the `app_uninstalled` event over HTTP); then the clock runs over
the following days past every due time: stand-up reminders, window closes and next prompts, blocker escalations
and digests, poll closing, poker catch-up, retro action items due, the sprint ending by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Cadence, FrozenClock
from storage import poker as poker_store
from storage import poker_cases, workspaces
from tests.platform import start_multi
from tests.tenancy import WORDS, calls_by_workspace, run_ceremonies, two_workspaces, utc


@pytest.fixture
def multi(fake: FakeSlack, db_url: str, clock: FrozenClock) -> Iterator[Cadence]:
    app = start_multi(fake, db_url, clock)
    yield app
    app.stop()


def test_an_uninstalled_workspace_gets_nothing_scheduled_and_the_other_gets_everything(
    multi: Cadence, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    seen = two_workspaces(multi)
    for team in ("TA", "TB"):
        run_ceremonies(multi, seen, team)
    multi.tick(utc(2026, 12, 1, 8, 30))  # today's prompts, in both

    assert multi.slack.event({"type": "app_uninstalled"}, team="TA").status == 200
    multi.settle()
    with multi.db.transaction() as session:
        assert not workspaces.is_active(session, team_id="TA")
    since = len(multi.fake.calls())
    with multi.db.transaction() as session:  # both poker story messages are redrawn through the outbox: only TB's goes out
        for story in session.scalars(select(poker_store.PokerStory)).all():
            poker_cases.redraw_story(session, team_id=story.team_id, story_id=story.id, now=multi.clock())
    for day in range(1, 6):
        for hour in (8, 9, 12, 18):
            multi.tick(utc(2026, 12, day, hour, 40))

    after = calls_by_workspace(multi, since)
    assert after["TA"] == []
    # No job even tried: they skip uninstalled workspaces in their "what is due?" queries.
    assert "uninstalled workspace" not in caplog.text
    assert "WorkspaceNotInstalled" not in caplog.text

    sent = "\n".join(after["TB"])
    word = WORDS["TB"]
    for what in (
        "A reminder: the <#C1> stand-up",           # stand-up reminder
        "Time for the <#C1> stand-up",              # the next days' prompts
        "open blockers",                            # the blocker digest
        "has been open for",                        # the blocker escalation
        "Poll closed",                              # the poll closing on time
        f"Vote on ZEB-1 {word} login",              # a poker story redraw
        f"is due today: {word} review rota",        # the retro action item due
        f"{word} sprint · summary",                 # the sprint ending by itself
    ):
        assert what in sent, f"TB did not get {what!r}"
