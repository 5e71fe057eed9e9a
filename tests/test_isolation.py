"""Two workspaces whose channel and user ids collide (both have C1, U1, U2): neither ever sees the other's data.

Every ceremony runs in both; then every command reply, response, button, scheduled message, summary, App Home and
export of each workspace is searched for the other workspace's word.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Cadence, FrozenClock
from storage.export import export_json
from tests.platform import start_multi
from tests.tenancy import (
    OTHER,
    POKER,
    RETRO,
    STANDUP,
    TOKENS,
    WORDS,
    acting_in,
    answer_standup,
    calls_by_workspace,
    run_ceremonies,
    two_workspaces,
    utc,
)


@pytest.fixture
def multi(fake: FakeSlack, db_url: str, clock: FrozenClock) -> Iterator[Cadence]:
    app = start_multi(fake, db_url, clock)
    yield app
    app.stop()


def test_two_workspaces_with_the_same_ids_never_see_each_others_data(multi: Cadence) -> None:
    seen = two_workspaces(multi)
    for team in TOKENS:
        run_ceremonies(multi, seen, team)
    multi.tick(utc(2026, 12, 1, 8, 30))  # the stand-up prompts of both
    for team in TOKENS:
        answer_standup(multi, seen, team)

    # Everything people read back, in both workspaces, once both hold data.
    for team in TOKENS:
        with acting_in(multi, seen, team):
            for command, text, channel in (
                ("/standup", "", STANDUP), ("/blocker", "list", STANDUP), ("/sprint", "", STANDUP),
                ("/sprint", "summary", STANDUP), ("/retro", "actions", RETRO), ("/retro", "export", RETRO),
                ("/poll", "", POKER), ("/poker", "", POKER), ("/poker", "end", POKER),
                ("/standup", "holidays list", STANDUP), ("/cadence", "help", STANDUP),
            ):
                multi.command(command, text, user="U1", channel=channel)
            for user in ("U1", "U2"):
                reply = multi.slack.event({"type": "app_home_opened", "user": user, "channel": "D" + user,
                                           "tab": "home"}, team=team)
                assert reply.status == 200
    # Scheduled work of the following days: reminders, window closes, digests, escalations, poll closing,
    # action items due, the sprint ending by itself with its summary.
    for day in range(1, 6):
        for hour in (8, 9, 12, 18):
            multi.tick(utc(2026, 12, day, hour, 40))

    calls = calls_by_workspace(multi)
    exports = {team: export_json(multi.db, team_id=team, now=multi.clock()) for team in TOKENS}
    for team in TOKENS:
        own, other = WORDS[team], WORDS[OTHER[team]]
        everything = [*calls[team], *seen.texts[team], exports[team]]
        leaked = [text[:300] for text in everything if other in text]
        assert leaked == [], f"{team} was shown {OTHER[team]}'s data"
        # ...and it did see its own, everywhere it should.
        homes = [c for c in calls[team] if c.startswith('views.publish {"user_id": "U1"')]
        assert homes
        # U1 started the sprint: their Home shows it (the last one published: the Home they opened, after the ones
        # refreshed by their earlier votes and answers).
        assert f"{own} sprint" in homes[-1], homes
        for what in (f"{own} yesterday U1", f"{own} staging is down", f"{own} login", f"{own} pizza",
                     f"{own} reviews are slow", f"{own} review rota", f"{own} sprint", f"{own} checkout"):
            assert any(what in text for text in [*calls[team], *seen.texts[team]]), f"{team} never saw {what!r}"
        document = json.loads(exports[team])
        assert document["team_id"] == team
        assert all(row["team_id"] == team for rows in document["tables"].values() for row in rows)
        assert exports[team].count(own) >= 10
    for team in TOKENS:  # the scheduled work did run in both: each got its own due reminder and sprint summary
        own = WORDS[team]
        posted = [c for c in calls[team] if c.startswith("chat.postMessage")]
        assert any(f"is due today: {own} review rota" in c for c in posted), f"no due reminder in {team}"
        assert any(f"{own} sprint · summary" in c for c in posted), team
