"""Planning poker rules as plain functions: decks, stories, statistics, consensus and who may do what."""

from __future__ import annotations

import pytest

from ceremonies import poker
from ceremonies.errors import InvalidInput, NotAllowed
from ceremonies.poker import Vote

FIB = poker.standard_deck(poker.DeckName.FIBONACCI)
MOD = poker.standard_deck(poker.DeckName.MODIFIED_FIBONACCI)
TSHIRT = poker.standard_deck(poker.DeckName.TSHIRT)


def votes(*cards: str) -> list[Vote]:
    return [Vote(f"U{i}", card) for i, card in enumerate(cards, start=1)]


def test_standard_decks_have_the_documented_cards() -> None:
    assert FIB.cards == ("0", "1", "2", "3", "5", "8", "13", "21", "?", "☕")
    assert MOD.cards[:3] == ("0", "½", "1")
    assert TSHIRT.cards == ("XS", "S", "M", "L", "XL", "?")
    assert poker.standard_deck(poker.DeckName.POWERS_OF_TWO).estimates == ("0", "1", "2", "4", "8", "16", "32", "64")
    assert FIB.is_numeric
    assert MOD.is_numeric
    assert not TSHIRT.is_numeric


def test_a_custom_deck_is_parsed_from_a_comma_separated_list() -> None:
    deck = poker.parse_custom_deck(" 1, 2 ,3,5, ?,, ")
    assert deck.cards == ("1", "2", "3", "5", "?")
    assert deck.name is poker.DeckName.CUSTOM


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "at least 2"),
        ("5", "at least 2"),
        (",".join(str(i) for i in range(26)), "at most 25"),
        ("1, 2, 2", "`2` is there twice"),
        ("1, " + "x" * 76, "at most 75 characters"),
        ("1, ?, ☕", "besides"),
    ],
)
def test_a_custom_deck_is_refused_clearly(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        poker.parse_custom_deck(text)


def test_twenty_five_cards_of_75_characters_are_fine() -> None:
    cards = [f"{i:02d}" + "x" * 73 for i in range(25)]
    assert len(poker.parse_custom_deck(",".join(cards)).cards) == 25


def test_an_unknown_deck_name_is_refused() -> None:
    with pytest.raises(InvalidInput, match="don't know the deck"):
        poker.deck_from("tarot")


def test_stories_keep_their_issue_key_and_title() -> None:
    stories = poker.parse_command_stories("PAY-123 Pay by card, PAY-7: Refunds, Just a title")
    assert stories == [
        poker.StoryDraft("PAY-123", "Pay by card"),
        poker.StoryDraft("PAY-7", "Refunds"),
        poker.StoryDraft(None, "Just a title"),
    ]
    lines = poker.parse_stories("https://jira.example.com/browse/X-1\n\n  ABC-9   Two  spaces ")
    assert lines == [poker.StoryDraft(None, "https://jira.example.com/browse/X-1"), poker.StoryDraft("ABC-9", "Two spaces")]


def test_story_lists_are_bounded() -> None:
    with pytest.raises(InvalidInput, match="at least one story"):
        poker.parse_stories(" \n ")
    with pytest.raises(InvalidInput, match="at most 40"):
        poker.parse_stories("\n".join(f"S-{i} t" for i in range(41)))
    with pytest.raises(InvalidInput, match="at most 300"):
        poker.parse_stories("x" * 301)


def test_statistics_of_a_numeric_round() -> None:
    result = poker.round_result(FIB, votes("3", "5", "8", "?", "☕"))
    assert result.average == pytest.approx(16 / 3)
    assert result.median == 5
    assert result.spread == 5
    assert result.counted == 3
    assert not result.consensus
    assert result.highest == ("U3",)
    assert result.lowest == ("U1",)
    assert result.suggestion == "5"


def test_the_suggestion_is_the_median_rounded_up_to_a_card() -> None:
    assert poker.round_result(FIB, votes("3", "5")).suggestion == "5"  # median 4
    assert poker.round_result(FIB, votes("8", "13")).suggestion == "13"  # median 10.5
    assert poker.round_result(MOD, votes("½", "1")).suggestion == "1"  # median 0.75
    assert poker.round_result(MOD, votes("½", "½")).suggestion == "½"


def test_consensus_is_all_equal_or_two_neighbouring_cards() -> None:
    assert poker.round_result(FIB, votes("5", "5", "5")).consensus
    assert poker.round_result(FIB, votes("3", "5", "5")).consensus
    assert not poker.round_result(FIB, votes("3", "8")).consensus
    assert poker.round_result(FIB, votes("3", "5", "?")).consensus  # ? does not count


def test_equal_votes_name_nobody_as_highest_or_lowest() -> None:
    result = poker.round_result(FIB, votes("5", "5"))
    assert result.highest == ()
    assert result.lowest == ()


def test_only_unsure_votes_give_no_statistics() -> None:
    result = poker.round_result(FIB, votes("?", "☕"))
    assert (result.average, result.median, result.spread, result.consensus, result.suggestion) == (
        None, None, None, False, None
    )


def test_tshirt_sizes_have_consensus_and_a_suggestion_but_no_numbers() -> None:
    result = poker.round_result(TSHIRT, votes("S", "M", "M", "L"))
    assert result.average is None
    assert not result.consensus
    assert result.suggestion == "M"
    assert result.highest == ("U4",)
    assert TSHIRT.points("M") is None
    assert poker.round_result(TSHIRT, votes("S", "M")).suggestion == "M"


def test_points_of_accepted_cards() -> None:
    assert MOD.points("½") == 0.5
    assert FIB.points("13") == 13
    assert FIB.points("?") is None
    lines = [poker.SummaryLine("a", "5", 5.0), poker.SummaryLine("b", None, None), poker.SummaryLine("c", "½", 0.5)]
    assert poker.total_points(lines) == 5.5
    assert poker.format_number(5.5) == "5.5"
    assert poker.format_number(8.0) == "8"


def test_who_may_reveal_and_decide() -> None:
    poker.check_may_reveal(user_id="U2", facilitator_id="U1", policy=poker.RevealPolicy.ANYONE)
    poker.check_may_reveal(user_id="U1", facilitator_id="U1", policy=poker.RevealPolicy.FACILITATOR)
    with pytest.raises(NotAllowed, match="Only <@U1> can reveal"):
        poker.check_may_reveal(user_id="U2", facilitator_id="U1", policy=poker.RevealPolicy.FACILITATOR)
    with pytest.raises(NotAllowed, match="Only <@U1> can accept an estimate"):
        poker.check_is_facilitator(user_id="U2", facilitator_id="U1", what="accept an estimate")


def test_a_reason_is_short() -> None:
    assert poker.check_reason("  too   many\nunknowns ") == "too many unknowns"
    with pytest.raises(InvalidInput, match="at most 300"):
        poker.check_reason("x" * 301)
