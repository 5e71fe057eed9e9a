"""The retro's rules as plain functions: setup, phases, cards and groups, the vote budget, action items, export."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ceremonies import retro
from ceremonies.errors import InvalidInput
from ceremonies.retro import Card, Phase

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def setup(**overrides: object) -> tuple[retro.RetroSetup | None, dict[str, str]]:
    fields: dict[str, object] = dict(title="Sprint 7", template="well_improve_ideas", custom_columns="",
                                     anonymous=True, votes_per_person="3", multiple_votes_per_card=False)
    fields.update(overrides)
    return retro.validate_setup(**fields)  # type: ignore[arg-type]


def test_default_setup_uses_the_default_template() -> None:
    chosen, problems = setup()
    assert problems == {}
    assert chosen == retro.RetroSetup("Sprint 7", retro.Template.WELL_IMPROVE_IDEAS,
                                      ("Went well", "To improve", "Ideas"), True, 3, False)


@pytest.mark.parametrize(("template", "columns"), [
    ("start_stop_continue", ("Start", "Stop", "Continue")),
    ("mad_sad_glad", ("Mad", "Sad", "Glad")),
    ("four_ls", ("Liked", "Learned", "Lacked", "Longed for")),
])
def test_each_template_has_its_columns(template: str, columns: tuple[str, ...]) -> None:
    chosen, _ = setup(template=template)
    assert chosen is not None
    assert chosen.columns == columns


def test_custom_columns_are_validated() -> None:
    chosen, _ = setup(template="custom", custom_columns=" Keep \n\nDrop, Try ")
    assert chosen is not None
    assert chosen.columns == ("Keep", "Drop", "Try")
    assert setup(template="custom", custom_columns="")[1] == {"columns": "Give at least one column, one per line."}
    assert setup(template="custom", custom_columns="a\nb\nc\nd\ne\nf\ng")[1] == {
        "columns": "A board has at most 6 columns."}
    assert setup(template="custom", custom_columns="Keep\nkeep")[1] == {"columns": "Two columns have the same name."}
    assert setup(template="custom", custom_columns="x" * 41)[1] == {
        "columns": "Column names have at most 40 characters."}


def test_bad_setup_names_every_problem() -> None:
    chosen, problems = setup(title=" ", template="nope", votes_per_person="many")
    assert chosen is None
    assert problems == {"title": "Give the retro a title.", "template": "Choose a template.",
                        "votes": "Give a whole number from 1 to 20."}
    assert setup(votes_per_person="21")[1] == {"votes": "Give a whole number from 1 to 20."}
    assert setup(title="t" * 151)[1] == {"title": "A title has at most 150 characters."}


def test_default_title_is_the_date_unless_a_source_names_it() -> None:
    today = date(2026, 12, 1)
    assert retro.default_title(today) == "Retro 2026-12-01"
    assert retro.default_title(today, sources=[lambda _d: None, lambda d: f"Sprint {d.month}"]) == "Sprint 12"


def test_phases_go_one_step_at_a_time_by_the_facilitator_only() -> None:
    assert [retro.next_phase(p) for p in retro.PHASES] == [*retro.PHASES[1:], None]
    assert retro.check_advance(phase=Phase.COLLECT, target=Phase.REVEAL, facilitator_id="U1", user_id="U1")
    assert not retro.check_advance(phase=Phase.REVEAL, target=Phase.REVEAL, facilitator_id="U1", user_id="U1")
    with pytest.raises(retro.NotFacilitator):
        retro.check_advance(phase=Phase.COLLECT, target=Phase.REVEAL, facilitator_id="U1", user_id="U2")
    with pytest.raises(retro.WrongPhase):
        retro.check_advance(phase=Phase.COLLECT, target=Phase.VOTE, facilitator_id="U1", user_id="U1")
    with pytest.raises(retro.BoardClosed):
        retro.check_advance(phase=Phase.CLOSED, target=Phase.CLOSED, facilitator_id="U1", user_id="U1")
    with pytest.raises(retro.BoardClosed):
        retro.require_phase(Phase.CLOSED, [Phase.VOTE], "Voting")
    with pytest.raises(retro.WrongPhase, match="Voting is not possible now"):
        retro.require_phase(Phase.GROUP, [Phase.VOTE], "Voting")


def test_card_text_limits() -> None:
    assert retro.validate_card_text("  Calm deploys \n") == "Calm deploys"
    with pytest.raises(InvalidInput, match="needs some text"):
        retro.validate_card_text(" \n ")
    assert retro.validate_card_text("x" * 500) == "x" * 500
    with pytest.raises(InvalidInput, match="at most 500 characters; this one has 501"):
        retro.validate_card_text("x" * 501)


def test_merged_cards_form_one_group_whose_votes_add_up() -> None:
    cards = [Card(1, 0, "a", votes=1), Card(2, 1, "b", votes=2, merged_into=1), Card(3, 1, "c", votes=4),
             Card(4, 2, "d", votes=1, merged_into=2)]
    groups = retro.group_cards(cards)
    assert [(g.id, [c.id for c in g.cards], g.votes) for g in groups] == [(1, [1, 2, 4], 4), (3, [3], 4)]
    assert [g.id for g in retro.discussion_order(groups)] == [1, 3]
    assert [g.id for g in retro.to_discuss(groups, top=1)] == [1]


def test_to_discuss_skips_unvoted_cards_unless_none_has_votes() -> None:
    groups = retro.group_cards([Card(1, 0, "a"), Card(2, 0, "b", votes=1)])
    assert [g.id for g in retro.to_discuss(groups)] == [2]
    assert [g.id for g in retro.to_discuss(retro.group_cards([Card(1, 0, "a"), Card(2, 0, "b")]))] == [1, 2]


def test_merge_rules() -> None:
    cards = [Card(1, 0, "a"), Card(2, 0, "b", merged_into=1), Card(3, 0, "c")]
    retro.check_merge(cards, source_id=3, target_id=1)
    with pytest.raises(retro.CannotMerge, match="into itself"):
        retro.check_merge(cards, source_id=1, target_id=1)
    with pytest.raises(retro.CannotMerge, match="already part of another group"):
        retro.check_merge(cards, source_id=3, target_id=2)
    with pytest.raises(retro.CardNotFound):
        retro.check_merge(cards, source_id=9, target_id=1)


def test_the_vote_budget() -> None:
    retro.check_vote(used=2, budget=3, on_this_card=0, multiple_per_card=False)
    retro.check_vote(used=2, budget=3, on_this_card=2, multiple_per_card=True)
    with pytest.raises(retro.VoteBudgetExceeded, match="all 3 of your votes"):
        retro.check_vote(used=3, budget=3, on_this_card=0, multiple_per_card=True)
    with pytest.raises(retro.AlreadyVotedOnCard):
        retro.check_vote(used=1, budget=3, on_this_card=1, multiple_per_card=False)
    assert retro.free_slot([0, 2], 3) == 1
    with pytest.raises(retro.VoteBudgetExceeded):
        retro.free_slot([0, 1, 2], 3)


def test_the_author_key_is_keyed_and_per_board() -> None:
    key = retro.author_key("s" * 16, team_id="T1", board_id=1, user_id="U2")
    assert len(key) == retro.AUTHOR_KEY_LENGTH
    assert "U2" not in key
    assert key == retro.author_key("s" * 16, team_id="T1", board_id=1, user_id="U2")
    assert key != retro.author_key("s" * 16, team_id="T1", board_id=2, user_id="U2")
    assert key != retro.author_key("t" * 16, team_id="T1", board_id=1, user_id="U2")


def test_action_items() -> None:
    today = date(2026, 12, 1)
    item, problems = retro.validate_action_item(text=" Fix CI ", owner_id="U3", due=date(2026, 12, 5), card_id=7,
                                                today=today)
    assert problems == {}
    assert item == retro.NewActionItem("Fix CI", "U3", date(2026, 12, 5), 7)
    assert retro.validate_action_item(text="", owner_id=None, due=date(2026, 11, 30), card_id=None, today=today)[1] == {
        "text": "Say what is to be done.", "owner": "Choose who owns it.", "due": "The due date is in the past."}
    assert retro.status_after(retro.ReviewOutcome.NOT_DONE) is retro.ActionStatus.OPEN
    assert retro.status_after(retro.ReviewOutcome.DONE) is retro.ActionStatus.DONE
    with pytest.raises(retro.NotOwnerOrFacilitator):
        retro.check_reviewer(user_id="U9", owner_id="U3", facilitator_id="U1")


def test_reminders_are_at_nine_local_time() -> None:
    assert retro.reminder_at(date(2026, 12, 10), "Europe/Berlin") == datetime(2026, 12, 10, 8, 0, tzinfo=UTC)
    assert retro.reminder_at(date(2026, 7, 10), "Europe/Berlin") == datetime(2026, 7, 10, 7, 0, tzinfo=UTC)
    assert retro.reminder_at(date(2026, 12, 10), "Nowhere/Atlantis") == datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    assert retro.reminder_key(5, date(2026, 12, 10)) == "retro.action_due:5:2026-12-10"
    assert retro.reminder_at(date(2026, 12, 10), "Pacific/Kiritimati") == datetime(2026, 12, 9, 19, 0, tzinfo=UTC)
    assert retro.reminder_at(date(2026, 12, 10), "Etc/GMT+12") == datetime(2026, 12, 10, 21, 0, tzinfo=UTC)


def test_completion_rate() -> None:
    stats = retro.RetroStats(1, (), 2, 1, 0, 1, previous_items_reviewed=4, previous_items_done=3)
    assert stats.completion_rate == 0.75
    assert retro.RetroStats(1, (), 0, 0, 0, 0, 0, 0).completion_rate is None


def export(anonymous: bool, votes_visible: bool = True) -> retro.BoardExport:
    groups = retro.group_cards([Card(1, 0, "Calm | deploys", votes=1), Card(2, 1, "Slow reviews", votes=3),
                                Card(3, 1, "Reviews wait", votes=1, merged_into=2)])
    return retro.BoardExport(
        board_id=4, title="Sprint 7", created_at=NOW, phase=Phase.CLOSED, anonymous=anonymous,
        columns=("Went well", "To improve"), groups=tuple(groups), votes_visible=votes_visible,
        authors={} if anonymous else {1: "alice", 2: "bob", 3: "carol"},
        actions=(retro.ExportedAction("Review within a day", "carol", date(2026, 12, 10), retro.ActionStatus.DONE),),
    )


def test_markdown_export() -> None:
    assert retro.export_markdown(export(anonymous=False)) == (
        "# Sprint 7\n\n_2026-12-01 · Closed · named cards_\n\n"
        "## Went well\n\n- Calm \\| deploys — alice **(1 vote)**\n\n"
        "## To improve\n\n- Slow reviews — bob **(4 votes)**\n  - Reviews wait — carol\n\n"
        "## Action items\n\n- [x] Review within a day — carol, due 2026-12-10\n"
    )
    anonymous = retro.export_markdown(export(anonymous=True, votes_visible=False))
    assert "alice" not in anonymous
    assert "vote" not in anonymous
    assert "- Slow reviews\n  - Reviews wait\n" in anonymous


def test_csv_export() -> None:
    assert retro.export_csv(export(anonymous=True)).splitlines() == [
        "kind,column,text,votes,group,author,owner,due,status",
        "card,Went well,Calm | deploys,1,1,,,,",
        "card,To improve,Slow reviews,3,2,,,,",
        "card,To improve,Reviews wait,1,2,,,,",
        "action,,Review within a day,,,,carol,2026-12-10,done",
    ]
