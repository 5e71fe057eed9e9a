"""The team health check over HTTP, on both databases: set-up to results, reminders once, the k-anonymity threshold,
the trend against the previous round, and refused input."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.devtools.fakeslack import Message
from bot.devtools.harness import Cadence
from bot.views import healthcheck as views
from storage import healthcheck as store

TEAM = ("U1", "U2", "U3", "U4")
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
THREE = "Speed | We ship fast | We wait\nFun | We laugh | We sigh\nTeamwork | Gelled | Lone wolves"


def text_input(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def selected(value: str | None) -> dict[str, Any]:
    return {"value": {"type": "static_select", "selected_option": {"value": value} if value else None}}


def set_up(cadence: Cadence, *, user: str = "U1", participants: Sequence[str] = TEAM, k: str = "3",
           window: str = "24", dimensions: str = THREE, how: str = "manual") -> Any:
    for person in participants:
        cadence.fake.add_user(person, person.lower())
    cadence.command("/healthcheck", "setup", user=user)
    [opened] = [c.args["view"] for c in cadence.fake.calls("views.open")][-1:]
    view = json.loads(opened) if isinstance(opened, str) else opened
    assert view["callback_id"] == views.SETUP_VIEW
    reply = cadence.slack.view_submission(view, {
        views.B_DIMENSIONS: text_input(dimensions),
        views.B_PARTICIPANTS: {"value": {"type": "multi_users_select", "selected_users": list(participants)}},
        views.B_CADENCE: selected(how),
        views.B_WEEKDAY: selected("4"),
        views.B_TIME: {"value": {"type": "timepicker", "selected_time": "10:00"}},
        views.B_TIMEZONE: text_input("Europe/Berlin"),
        views.B_WINDOW: text_input(window),
        views.B_K: text_input(k),
    }, user=user)
    cadence.settle()
    return reply


def invitation(cadence: Cadence, user: str) -> Message:
    found = [m for m in cadence.fake.dms(user) if any(
        e.get("action_id") == views.ANSWER for b in m.blocks for e in b.get("elements", []))]
    assert found, f"{user} got no invitation"
    return found[-1]


def answer(cadence: Cadence, user: str, ratings: Sequence[str | None], trends: Sequence[str | None] = (),
           comment: str = "") -> Any:
    cadence.slack.click(invitation(cadence, user), views.ANSWER, user=user)
    cadence.settle()
    view = cadence.fake.last_view()
    assert view["callback_id"] == views.ANSWER_VIEW, view
    values: dict[str, Any] = {views.B_COMMENT: text_input(comment)}
    for index, rating in enumerate(ratings):
        values[views.rating_block(index)] = {"value": {"type": "radio_buttons",
                                                       "selected_option": {"value": rating} if rating else None}}
        trend = trends[index] if index < len(trends) else None
        values[views.trend_block(index)] = selected(trend)
    reply = cadence.slack.view_submission(view, values, user=user)
    cadence.settle()
    return reply


def results(cadence: Cadence) -> list[Message]:
    return [m for m in cadence.fake.messages("C1", top_level=True) if "Team health check ·" in m.all_text]


def charts(cadence: Cadence) -> list[dict[str, Any]]:
    return [u for u in cadence.fake.state.uploads.values() if u.get("channel")]


def alt_texts(cadence: Cadence) -> list[str]:
    """The alt text of each chart, as the app asked Slack for the upload."""
    return [str(c.args.get("alt_txt")) for c in cadence.fake.calls("files.getUploadURLExternal")]


def reminders(cadence: Cadence, user: str) -> list[Message]:
    return [m for m in cadence.fake.dms(user) if m.text.startswith("Reminder")]


def open_round(cadence: Cadence, user: str = "U1") -> None:
    cadence.command("/healthcheck", "now", user=user)
    assert "Health check round opened: 4 participants" in cadence.fake.responses()[-1]["text"]


def test_a_round_from_set_up_to_results_with_one_reminder_to_those_who_had_not_answered(cadence: Cadence) -> None:
    cadence.clock.set(START)
    set_up(cadence)
    assert "Health check of <#C1> saved: 3 dimensions, 4 participants" in cadence.fake.ephemerals("U1")[-1]["text"]
    open_round(cadence)
    for person in TEAM:
        assert "How is the team doing?" in invitation(cadence, person).text
    answer(cadence, "U2", ["green", "amber", "green"], ["better", "same", "same"], comment="Releases feel calm")
    answer(cadence, "U3", ["green", "red", "amber"], ["same", "worse"], comment="Too many meetings")
    # U3 changes their mind: still one answer of theirs.
    answer(cadence, "U3", ["amber", "red", "amber"], ["same", "worse"], comment="Too many meetings")
    with cadence.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(store.HealthResponse)) == 2

    # Half time: the two who have not answered are reminded, once, however often the job runs.
    cadence.tick(START + timedelta(hours=12))
    cadence.tick(START + timedelta(hours=13))
    assert [len(reminders(cadence, p)) for p in TEAM] == [1, 0, 0, 1]
    answer(cadence, "U4", ["red", "amber", "green"], ["worse", "same", "better"])
    cadence.tick(START + timedelta(hours=20))
    assert [len(reminders(cadence, p)) for p in TEAM] == [1, 0, 0, 1]
    assert results(cadence) == []

    # The window's end: one message in the channel, the chart in its thread; never again.
    cadence.tick(START + timedelta(hours=24))
    cadence.tick(START + timedelta(hours=25))
    [posted] = results(cadence)
    shown = posted.all_text
    assert "3 of 4 answered" in shown
    assert "*Speed*  🟢 1 🟡 1 🔴 1  ·  first round" in shown
    assert "*Fun*  🟢 0 🟡 2 🔴 1" in shown
    assert "*Teamwork*  🟢 2 🟡 1 🔴 0" in shown
    assert shown.index("Releases feel calm") < shown.index("Too many meetings")  # alphabetical, not answer order
    [chart] = charts(cadence)
    assert (chart["channel"], chart["thread_ts"]) == ("C1", posted.ts)
    [alt] = alt_texts(cadence)
    assert alt.startswith("A grid of 3 dimensions × 1 rounds, each cell coloured by the mean rating")
    # Too late to answer now: refused in the modal, nothing stored.
    cadence.slack.click(invitation(cadence, "U1"), views.ANSWER, user="U1")
    cadence.settle()
    assert "This health check round is closed" in json.dumps(cadence.fake.last_view())
    with cadence.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(store.HealthResponse)) == 3


@pytest.mark.parametrize("answers", [2, 3])
def test_results_are_shown_only_from_k_answers(cadence: Cadence, answers: int) -> None:
    cadence.clock.set(START)
    set_up(cadence)
    open_round(cadence)
    for person in TEAM[1: 1 + answers]:
        answer(cadence, person, ["green", "amber", "red"], comment=f"note from {person.lower()}")
    cadence.tick(START + timedelta(days=1))
    [posted] = results(cadence)
    if answers == 2:
        assert "2 answers, fewer than 3 — results are not shown to keep answers anonymous." in posted.all_text
        assert "🟢" not in posted.all_text
        assert "note from" not in posted.all_text
        assert charts(cadence) == []
    else:
        assert "*Speed*  🟢 3 🟡 0 🔴 0" in posted.all_text
        assert "note from u2" in posted.all_text
        assert len(charts(cadence)) == 1


def test_k_above_three_holds_back_results_until_that_many_answered(cadence: Cadence) -> None:
    cadence.clock.set(START)
    set_up(cadence, k="4")
    open_round(cadence)
    for person in TEAM[1:]:
        answer(cadence, person, ["green", "green", "green"])
    cadence.tick(START + timedelta(days=1))
    [posted] = results(cadence)
    assert "3 answers, fewer than 4 — results are not shown" in posted.all_text


def test_the_trend_compares_each_dimension_with_the_previous_round(cadence: Cadence) -> None:
    cadence.clock.set(START)
    set_up(cadence)
    open_round(cadence)
    for person in TEAM[1:]:
        answer(cadence, person, ["red", "amber", "green"])
    cadence.tick(START + timedelta(days=1))
    second = START + timedelta(days=14)
    cadence.clock.set(second)
    open_round(cadence)
    for person in TEAM[1:]:
        answer(cadence, person, ["green", "amber", "red"])
    cadence.tick(second + timedelta(days=1))
    first_results, second_results = results(cadence)
    assert "first round" in first_results.all_text
    shown = second_results.all_text
    assert "*Speed*  🟢 3 🟡 0 🔴 0  ·  ↑ better than last round" in shown
    assert "*Fun*  🟢 0 🟡 3 🔴 0  ·  → same as last round" in shown
    assert "*Teamwork*  🟢 0 🟡 0 🔴 3  ·  ↓ worse than last round" in shown
    assert "3 dimensions × 2 rounds" in alt_texts(cadence)[-1]


def test_missing_ratings_and_bad_set_up_are_refused_inline(cadence: Cadence) -> None:
    cadence.clock.set(START)
    refused = set_up(cadence, k="2", dimensions="Speed | a | b | c")
    errors = refused.json["errors"]
    assert "more than three parts" in errors[views.B_DIMENSIONS]
    assert "at least 3 answers" in errors[views.B_K]
    with cadence.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(store.HealthCheck)) == 0
    set_up(cadence)
    open_round(cadence)
    reply = answer(cadence, "U2", ["green", None, "amber"], comment="half done")
    assert reply.json["response_action"] == "errors"
    assert reply.json["errors"] == {views.rating_block(1): "Pick green, amber or red."}
    with cadence.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(store.HealthResponse)) == 0
    # Someone who is not a participant cannot answer, and a second round cannot open over the first.
    cadence.slack.click(invitation(cadence, "U2"), views.ANSWER, user="U9")
    cadence.settle()
    assert "not among this health check's participants" in json.dumps(cadence.fake.last_view())
    cadence.command("/healthcheck", "now", user="U1")
    assert "already open" in cadence.fake.responses()[-1]["text"]


def test_only_the_facilitator_or_an_admin_changes_the_health_check_or_opens_a_round(cadence: Cadence) -> None:
    cadence.clock.set(START)
    set_up(cadence)
    refused = set_up(cadence, user="U2")
    assert "Only the team's facilitator (<@U1>)" in json.dumps(cadence.fake.last_view())  # the modal said so at once
    assert "Only the team's facilitator (<@U1>) or a workspace admin" in refused.json["errors"][views.B_DIMENSIONS]
    cadence.command("/healthcheck", "now", user="U3")
    assert "Only the team's facilitator" in cadence.fake.responses()[-1]["text"]
    cadence.command("/healthcheck", "", user="U3")
    assert "No round is open" in cadence.fake.responses()[-1]["text"]


def test_results_slack_refuses_tell_whoever_set_the_check_up(cadence: Cadence) -> None:
    cadence.clock.set(START)
    set_up(cadence)
    open_round(cadence)
    for person in TEAM[1:]:
        answer(cadence, person, ["green", "green", "green"])
    cadence.fake.add_channel("C1", is_member=False, private=True)  # the app was removed from the channel meanwhile
    cadence.tick(START + timedelta(days=1))
    cadence.tick(START + timedelta(days=2))
    assert results(cadence) == []
    told = [m.text for m in cadence.fake.dms("U1") if "could not post the health check's results" in m.text]
    assert len(told) == 1
    assert "<#C1>" in told[0]


def test_the_facilitator_closes_a_round_early_and_its_reminder_never_goes(cadence: Cadence) -> None:
    cadence.clock.set(START)
    set_up(cadence)
    open_round(cadence)
    for person in TEAM[1:]:
        answer(cadence, person, ["amber", "amber", "amber"])
    cadence.command("/healthcheck", "close", user="U2")
    assert "Only the team's facilitator" in cadence.fake.responses()[-1]["text"]
    cadence.clock.set(START + timedelta(hours=2))
    cadence.command("/healthcheck", "close", user="U1")
    assert "Round closed with 3 answers" in cadence.fake.responses()[-1]["text"]
    [posted] = results(cadence)
    assert "*Fun*  🟢 0 🟡 3 🔴 0" in posted.all_text
    cadence.command("/healthcheck", "close", user="U1")
    assert "No health check round is open" in cadence.fake.responses()[-1]["text"]
    cadence.tick(START + timedelta(hours=12))
    cadence.tick(START + timedelta(days=1))
    assert reminders(cadence, "U1") == []
    assert len(results(cadence)) == 1


def test_typed_dimension_names_and_comments_ping_nobody(cadence: Cadence) -> None:
    cadence.clock.set(START)
    set_up(cadence, dimensions="Speed <!channel> | a | b\nFun\nTeam <@U2|dana>")
    open_round(cadence)
    for person in TEAM[1:]:
        answer(cadence, person, ["green", "green", "green"], comment=f"<!here> from {person} <https://x.example|link>")
    cadence.tick(START + timedelta(days=1))
    [posted] = results(cadence)
    shown = json.dumps({"text": posted.text, "blocks": posted.blocks}, ensure_ascii=False)
    assert "<!channel>" not in shown
    assert "<!here>" not in shown
    assert "<https://" not in shown
    assert "<@U2" not in shown
    assert "Speed &lt;!channel&gt;" in shown
