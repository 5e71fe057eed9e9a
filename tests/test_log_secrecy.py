"""The logs of a whole run (at DEBUG, every library included) hold no secret and no anonymous author or voter.

An OAuth install, a stand-up with answers, an anonymous retro with cards and votes, an anonymous poll with votes.
"""

from __future__ import annotations

import logging

import pytest

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import SIGNING_SECRET, FrozenClock
from tests.platform import CLIENT_SECRET, ENCRYPTION_KEY, STATE_SECRET, install, start_multi
from tests.tenancy import choose, utc
from tests.test_retro_steps import CHANNEL, add_card, advance, board, start_retro, vote_on
from tests.test_standup_flow import answer, set_up

TOKEN = "xoxb-3333-logslogslogslogslogslogs"
AUTHOR, AUTHOR_NAME = "UQUIETAUTHOR", "zelda"
VOTER, VOTER_NAME = "USECRETVOTER", "yuri"


def test_a_full_run_logs_no_secret_and_no_anonymous_author_or_voter(
    fake: FakeSlack, db_url: str, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cadence = start_multi(fake, db_url, clock, retro_anonymity_secret="anonymity-pepper-5e1f0c")
    try:
        assert install(cadence, "T1", TOKEN).status == 200
        fake.add_user("U1", "ada")
        fake.add_user("U2", "bob")
        fake.add_user(AUTHOR, AUTHOR_NAME)
        fake.add_user(VOTER, VOTER_NAME)
        fake.add_channel("C1")
        fake.add_channel(CHANNEL)

        set_up(cadence, users=("U1", "U2"))
        cadence.tick(utc(2026, 12, 1, 8, 30))
        answer(cadence, "U1", ["shipped the importer", "reviews", ""])

        start_retro(cadence, user="U1", anonymous=True)
        add_card(cadence, AUTHOR, 0, "Deploys are calm now")
        add_card(cadence, AUTHOR, 1, "Reviews take days")
        add_card(cadence, "U2", 1, "Flaky tests")
        advance(cadence, "U1")  # reveal
        advance(cadence, "U1")  # group
        advance(cadence, "U1")  # vote
        vote_on(cadence, "Reviews take days", AUTHOR)
        advance(cadence, "U1")  # discuss
        assert "Reviews take days" in "\n".join(m.all_text for m in fake.messages(CHANNEL))
        assert board(cadence).ts

        cadence.command("/poll", '"Retro format?" "Sailboat" "Starfish" --anonymous', user="U1", channel="C1")
        poll = fake.messages("C1", top_level=True)[-1]
        choose(cadence, poll, "Sailboat", user=VOTER)
        choose(cadence, fake.message(poll.channel, poll.ts), "Starfish", user=VOTER)
        choose(cadence, fake.message(poll.channel, poll.ts), "Starfish", user="U2")
        cadence.tick(utc(2026, 12, 1, 12, 0))
    finally:
        cadence.stop()

    text = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    assert "oauth.v2.access" in text  # the libraries' debug lines were captured
    assert "'channel': 'U2'" in text  # …with their arguments: people who are not anonymous do show up
    for secret in (TOKEN, SIGNING_SECRET, CLIENT_SECRET, STATE_SECRET, ENCRYPTION_KEY, "anonymity-pepper-5e1f0c"):
        assert secret not in text, "a secret is in the logs"
    for person in (AUTHOR, AUTHOR_NAME, AUTHOR_NAME.title(), VOTER, VOTER_NAME, VOTER_NAME.title()):
        assert person not in text, f"the anonymous {person} is in the logs"
