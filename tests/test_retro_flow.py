"""A whole retro over HTTP with the fake Slack: what the facilitator and the team see at every phase."""

from __future__ import annotations

from sqlalchemy import select

from bot.devtools.harness import Cadence
from bot.views import retro as views
from storage import retro as store
from tests.test_retro_steps import (
    CHANNEL,
    add_action,
    add_card,
    advance,
    board,
    click,
    last_response_text,
    merge,
    start_retro,
    text_input,
    thread,
    vote_button_value,
    vote_on,
)


def people(cadence: Cadence) -> None:
    cadence.fake.add_user("U1", "alice")
    cadence.fake.add_user("U2", "bob")
    cadence.fake.add_user("U3", "carol")


def test_a_whole_named_retro(cadence: Cadence) -> None:
    people(cadence)
    start_retro(cadence, user="U1", anonymous=False, template="start_stop_continue", votes="2", title="Sprint 7")
    first = board(cadence)
    assert "Sprint 7" in first.all_text
    assert "facilitated by <@U1>" in first.all_text
    assert "named cards" in first.all_text

    # Collect: the board shows counts and contributors, never the cards.
    add_card(cadence, "U2", 0, "Start pairing")
    add_card(cadence, "U3", 1, "Stop meetings")
    add_card(cadence, "U3", 1, "Stop long meetings")
    add_card(cadence, "U2", 2, "Continue demos")
    collecting = board(cadence)
    assert "*Stop* — 2 cards" in collecting.all_text
    assert "*Start* — 1 card" in collecting.all_text
    assert "Cards from <@U2>, <@U3>" in collecting.all_text
    assert "meetings" not in collecting.all_text
    assert "pairing" not in collecting.all_text

    # My cards: only your own, and you can edit them.
    click(cadence, collecting, views.MY_CARDS, "U2")
    mine = cadence.fake.last_view()
    assert "Start pairing" in str(mine["blocks"])
    assert "Continue demos" in str(mine["blocks"])
    assert "meetings" not in str(mine["blocks"])
    edit = next(b for b in mine["blocks"] if b["type"] == "actions")["elements"][0]
    cadence.slack.block_action(views.EDIT_CARD, edit["value"], user="U2", view=mine, channel=None)
    cadence.settle()
    form = cadence.fake.last_view()
    assert form["callback_id"] == views.CARD_VIEW
    cadence.slack.view_submission(form, {views.CARD_COLUMN_BLOCK: {views.VALUE: {
        "type": "static_select", "selected_option": {"value": "0"}}},
        views.CARD_TEXT_BLOCK: text_input("Start pair programming")}, user="U2")
    cadence.settle()

    # Only the facilitator moves the board on; nothing changes otherwise.
    advance(cadence, "U2")
    assert last_response_text(cadence) == ":warning: Only the facilitator (who started the retro) can do that."
    assert thread(cadence) == []

    # Reveal: the cards by column in the thread, with their authors on a named board.
    advance(cadence, "U1")
    revealed = "\n".join(m.all_text for m in thread(cadence))
    assert "Start pair programming — <@U2>" in revealed
    assert "Stop long meetings — <@U3>" in revealed
    assert "Start pairing" not in revealed

    # Group: merge a duplicate.
    advance(cadence, "U1")
    merge(cadence, "U1", "Stop long meetings", "Stop meetings")
    assert "Merged “Stop long meetings” into “Stop meetings”" in thread(cadence)[-1].all_text

    # Vote: budget of two, one per card; counts stay hidden.
    advance(cadence, "U1")
    vote_on(cadence, "Stop meetings", "U2")
    assert last_response_text(cadence) == "Vote counted. You have 1 vote left."
    vote_on(cadence, "Stop meetings", "U3")
    vote_on(cadence, "Start pair programming", "U3")
    vote_on(cadence, "Continue demos", "U3")
    assert last_response_text(cadence) == (
        ":warning: You have used all 2 of your votes. Reset your votes to vote differently.")
    vote_on(cadence, "Stop meetings", "U2")
    assert "You already voted on this card" in last_response_text(cadence)
    every_message = "\n".join(m.all_text for m in cadence.fake.messages(CHANNEL))
    assert "*2 votes*" not in every_message
    assert "*1 vote*" not in every_message
    assert "2 people have voted" in board(cadence).all_text

    # Discuss: the groups by votes, one message each; merged cards count together.
    stale_vote = vote_button_value(cadence, "Continue demos")
    vote_message_ts = next(m.ts for m in thread(cadence) if m.text.endswith(": vote on the cards"))
    advance(cadence, "U1")
    voted = cadence.fake.message(CHANNEL, vote_message_ts)
    assert not any((b.get("accessory") or {}).get("action_id") == views.VOTE for b in voted.blocks)
    assert "*2 votes* · Stop meetings" in voted.all_text
    assert "*0 votes* · Continue demos" in voted.all_text
    discussion = [m for m in thread(cadence) if m.text.startswith("To discuss")]
    assert [m.text for m in discussion] == [
        "To discuss #1: Stop meetings", "To discuss #2: Start pair programming"]
    assert "*2 votes* · Stop meetings" in discussion[0].all_text
    assert "↳ Stop long meetings" in discussion[0].all_text

    # Actions: from a card, the owner gets a DM.
    add_action(cadence, discussion[0], "U1", text="Cap meetings at 30 minutes", owner="U3", due="2026-12-10")
    dm = cadence.fake.dms("U3")[-1]
    assert "Cap meetings at 30 minutes" in dm.text
    assert "Due 2026-12-10" in dm.text
    with cadence.db.transaction() as session:
        item = session.scalars(select(store.RetroActionItem)).one()
        card = session.get(store.RetroCard, item.card_id)
        assert card is not None
        assert card.text == "Stop meetings"
        assert (item.owner_id, item.status, str(item.due_date)) == ("U3", "open", "2026-12-10")

    advance(cadence, "U1")
    advance(cadence, "U1")  # close
    closed = board(cadence)
    assert "Closed" in closed.all_text
    assert not any(b["type"] == "actions" for b in closed.blocks)
    summary = thread(cadence)[-1].text
    assert "is closed" in summary
    # The summary is also shown in the channel, not only in the board's thread.
    [posted] = [c for c in cadence.fake.calls("chat.postMessage") if "is closed" in str(c.args.get("text"))]
    assert posted.args.get("reply_broadcast") in (True, "true", "1")
    assert "Stop meetings — *2 votes*" in summary
    assert "Cap meetings at 30 minutes — <@U3>, due 2026-12-10" in summary

    # A button on a closed board: a clear refusal, nothing changes.
    before = len(cadence.fake.calls("chat.update"))
    cadence.slack.block_action(views.VOTE, stale_vote, user="U2", channel=CHANNEL, message_ts=vote_message_ts)
    cadence.settle()
    assert last_response_text(cadence) == ":warning: This retro is closed; nothing on it can change any more."
    assert len(cadence.fake.calls("chat.update")) == before


def test_bad_cards_are_refused_in_the_modal(cadence: Cadence) -> None:
    people(cadence)
    start_retro(cadence, user="U1")
    empty = add_card(cadence, "U2", 0, "   ")
    assert empty.json == {"response_action": "errors", "errors": {views.CARD_TEXT_BLOCK: "A card needs some text."}}
    too_long = add_card(cadence, "U2", 0, "x" * 501)
    assert too_long.json["errors"][views.CARD_TEXT_BLOCK] == "A card has at most 500 characters; this one has 501."
    with cadence.db.transaction() as session:
        assert session.scalars(select(store.RetroCard)).all() == []
    assert "0 cards" in board(cadence).all_text


def test_start_modal_validates_and_one_retro_runs_at_a_time(cadence: Cadence) -> None:
    people(cadence)
    bad = start_retro(cadence, user="U1", template="custom", columns="", votes="0", title="")
    assert bad.json["errors"] == {
        views.TITLE_BLOCK: "Give the retro a title.",
        views.COLUMNS_BLOCK: "Give at least one column, one per line.",
        views.VOTES_BLOCK: "Give a whole number from 1 to 20.",
    }
    start_retro(cadence, user="U1", template="custom", columns="Keep\nDrop\nTry")
    assert "*Keep* — 0 cards" in board(cadence).all_text
    modal = cadence.fake.last_view()
    again = cadence.command("/retro", "", user="U2", channel=CHANNEL)
    assert again.text == ":warning: A retro is already running in this channel; its facilitator must close it first."
    assert cadence.fake.last_view() == modal
    # A start modal opened before the other retro began is refused when it is submitted.
    late = cadence.slack.view_submission(modal, {views.TITLE_BLOCK: text_input("Late"), views.TEMPLATE_BLOCK: {
        views.VALUE: {"type": "static_select", "selected_option": {"value": "mad_sad_glad"}}},
        views.VOTES_BLOCK: text_input("3")}, user="U2")
    assert "already running" in late.json["errors"][views.TITLE_BLOCK]


def test_the_default_title_is_the_date(cadence: Cadence) -> None:
    cadence.command("/retro", "", user="U1", channel=CHANNEL)
    assert cadence.fake.last_view()["blocks"][0]["element"]["initial_value"] == "Retro 2026-12-01"


def test_the_default_title_is_the_running_sprint(cadence: Cadence) -> None:
    cadence.fake.add_user("U1", "tess")
    cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11', user="U1", channel=CHANNEL)
    cadence.command("/retro", "", user="U1", channel=CHANNEL)
    assert cadence.fake.last_view()["blocks"][0]["element"]["initial_value"] == "Sprint 14"


def test_help_and_unknown_text_answer_with_the_usage(cadence: Cadence) -> None:
    assert "/retro export [board number]" in cadence.command("/retro", "help").text
    reply = cadence.command("/retro", "dance")
    assert "I don't know `dance`." in reply.text
    assert "/retro actions" in reply.text


def test_export_posts_the_board_as_markdown(cadence: Cadence) -> None:
    people(cadence)
    start_retro(cadence, user="U1", anonymous=False, title="Sprint 8")
    add_card(cadence, "U2", 0, "Fast CI")
    cadence.command("/retro", "export", user="U1", channel=CHANNEL)
    uploads = [u for u in cadence.fake.state.uploads.values() if u.get("channel") == CHANNEL]
    assert len(uploads) == 1
    content = uploads[0]["content"].decode()
    assert content.startswith("# Sprint 8\n")
    assert "## Went well" in content
    assert "- Fast CI" in content
    assert uploads[0]["filename"].startswith("retro-")


def test_export_without_a_board_says_so(cadence: Cadence) -> None:
    cadence.command("/retro", "export", channel=CHANNEL)
    assert last_response_text(cadence) == ":warning: This channel has no retro board yet; start one with `/retro`."


def test_a_long_board_is_split_over_several_messages_in_the_thread(cadence: Cadence) -> None:
    people(cadence)
    start_retro(cadence, user="U1", anonymous=False)
    with cadence.db.transaction() as session:
        board_row = session.scalars(select(store.RetroBoard)).one()
        for index in range(70):
            store.add_card(session, team_id="T1", board_id=board_row.id, column=index % 3,
                           text=f"Card {index:02d} " + "x" * 490, author_id="U2", author_key=None,
                           now=cadence.clock())
    advance(cadence, "U1")
    messages = thread(cadence)
    assert len(messages) == 2
    assert all(len(m.blocks) <= 50 for m in messages)
    shown = "\n".join(m.all_text for m in messages)
    assert all(f"Card {index:02d} " in shown for index in range(70))
    advance(cadence, "U1")
    advance(cadence, "U1")  # voting: every card gets its Vote button, still within the limits
    vote_messages = thread(cadence)[2:]
    buttons = [b for m in vote_messages for b in m.blocks if (b.get("accessory") or {}).get("action_id") == views.VOTE]
    assert len(buttons) == 70


def test_a_channel_without_the_bot_gets_a_clear_answer_and_no_stuck_board(cadence: Cadence) -> None:
    people(cadence)
    cadence.fake.add_channel("CSECRET", is_member=False, private=True)
    refused = start_retro(cadence, user="U1", channel="CSECRET")
    # Refused in the modal itself, before anything is stored (the bot cannot see the private channel).
    assert "`/invite @Cadence`" in refused.json["errors"][views.TITLE_BLOCK]
    with cadence.db.transaction() as session:
        assert session.scalars(select(store.RetroBoard)).all() == []
    cadence.fake.add_channel("CSECRET", is_member=True, private=True)
    start_retro(cadence, user="U1", channel="CSECRET")
    assert board(cadence, "CSECRET").text.startswith("Retro “")
