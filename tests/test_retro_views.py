"""The retro's Block Kit as pure functions: within Slack's limits, and nothing shown before its time."""

from __future__ import annotations

from bot.devtools.blockkit import message_problems, view_problems
from bot.views import retro as views
from ceremonies import retro as domain
from ceremonies.retro import Card, Phase


def state(phase: Phase, **overrides: object) -> views.BoardState:
    fields: dict[str, object] = dict(
        board_id=3, title="Sprint 7", phase=phase, facilitator_id="U1", anonymous=True, columns=("Mad", "Sad"),
        votes_per_person=3, multiple_votes_per_card=False, counts={0: 2}, contributor_count=2,
        groups=tuple(domain.group_cards([Card(1, 0, "Secret card", votes=2)])),
    )
    fields.update(overrides)
    return views.BoardState(**fields)  # type: ignore[arg-type]


def test_every_phase_of_the_board_is_valid_block_kit() -> None:
    for phase in domain.PHASES:
        blocks = views.board_blocks(state(phase))
        assert message_problems(views.board_text(state(phase)), blocks) == []


def test_votes_and_cards_stay_off_the_board_until_their_phase() -> None:
    for phase in (Phase.COLLECT, Phase.REVEAL, Phase.GROUP, Phase.VOTE):
        text = str(views.board_blocks(state(phase)))
        assert "Secret card" not in text
        assert "2 votes" not in text
    assert "Secret card — *2 votes*" in str(views.board_blocks(state(Phase.DISCUSS)))


def test_an_anonymous_board_counts_contributors_a_named_one_names_them() -> None:
    assert "2 people have added cards." in str(views.board_blocks(state(Phase.COLLECT)))
    named = str(views.board_blocks(state(Phase.COLLECT, anonymous=False, contributor_ids=("U2", "U3"))))
    assert "Cards from <@U2>, <@U3>" in named


def test_a_closed_board_has_no_buttons() -> None:
    assert [b for b in views.board_blocks(state(Phase.CLOSED)) if b["type"] == "actions"] == []


def test_my_cards_modal_stays_within_a_modals_blocks() -> None:
    few = views.my_cards_modal(1, ("A",), [(i, 0, f"card {i}") for i in range(49)])
    assert len(few["blocks"]) == 1 + 49 * 2
    many = views.my_cards_modal(1, ("A",), [(i, 0, f"card {i}") for i in range(80)])
    assert view_problems(many) == []
    assert many["blocks"][-1]["elements"][0]["text"] == "…and 32 more; delete some to see the rest."


def test_modals_are_valid() -> None:
    groups = domain.group_cards([Card(i, i % 2, "x" * 500) for i in range(1, 130)])
    for view in (
        views.setup_modal("C1", "Retro 2026-12-01"),
        views.card_modal(1, ("Mad", "Sad"), card_id=4, column=1, text="y" * 500),
        views.merge_modal(1, ("Mad", "Sad"), groups),
        views.action_modal(1, groups, card_id=5),
    ):
        assert view_problems(view) == []


def test_user_text_cannot_mention_everyone() -> None:
    loud = state(Phase.CLOSED, title="<!channel> party", groups=tuple(domain.group_cards([Card(1, 0, "<!here> x")])),
                 actions=(views.ActionLine("<@U9> do it", "U3", None),))
    blocks = views.board_blocks(loud)
    assert blocks[0]["text"]["type"] == "plain_text"  # a header never mentions anyone
    rendered = views.board_text(loud) + str(blocks[1:]) + views.summary_text(loud)
    assert "<!channel>" not in rendered
    assert "<!here>" not in rendered
    assert "<@U9>" not in rendered
