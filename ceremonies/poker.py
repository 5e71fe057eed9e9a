"""Planning poker: decks, stories, the statistics of a round and the rules of who may do what."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ceremonies.errors import InvalidInput, NotAllowed

# Documented limits (the storage columns are sized from these).
CARD_MAX_LENGTH = 75  # a card is a button's text
DECK_MIN_CARDS = 2
DECK_MAX_CARDS = 25
STORY_KEY_MAX_LENGTH = 32
STORY_TITLE_MAX_LENGTH = 300
STORIES_MAX = 40
REASON_MAX_LENGTH = 300

UNSURE = "?"
COFFEE = "☕"
NON_ESTIMATES = frozenset({UNSURE, COFFEE})


class DeckName(StrEnum):
    FIBONACCI = "fibonacci"
    MODIFIED_FIBONACCI = "modified_fibonacci"
    TSHIRT = "tshirt"
    POWERS_OF_TWO = "powers_of_two"
    CUSTOM = "custom"


DECK_LABELS = {
    DeckName.FIBONACCI: "Fibonacci (0 1 2 3 5 8 13 21 ? ☕)",
    DeckName.MODIFIED_FIBONACCI: "Modified Fibonacci (0 ½ 1 2 3 5 8 13 20 40 100 ? ☕)",
    DeckName.TSHIRT: "T-shirt (XS S M L XL ?)",
    DeckName.POWERS_OF_TWO: "Powers of two (0 1 2 4 8 16 32 64 ? ☕)",
    DeckName.CUSTOM: "Custom (comma-separated)",
}

STANDARD_DECKS: dict[DeckName, tuple[str, ...]] = {
    DeckName.FIBONACCI: ("0", "1", "2", "3", "5", "8", "13", "21", UNSURE, COFFEE),
    DeckName.MODIFIED_FIBONACCI: ("0", "½", "1", "2", "3", "5", "8", "13", "20", "40", "100", UNSURE, COFFEE),
    DeckName.TSHIRT: ("XS", "S", "M", "L", "XL", UNSURE),
    DeckName.POWERS_OF_TWO: ("0", "1", "2", "4", "8", "16", "32", "64", UNSURE, COFFEE),
}


class RevealPolicy(StrEnum):
    FACILITATOR = "facilitator"
    ANYONE = "anyone"


class StoryStatus(StrEnum):
    PENDING = "pending"
    VOTING = "voting"
    REVEALED = "revealed"
    ACCEPTED = "accepted"
    SKIPPED = "skipped"


def card_value(card: str) -> float | None:
    """The number a card stands for, or None for ?, ☕ and words."""
    if card == "½":
        return 0.5
    try:
        return float(card.replace(",", "."))
    except ValueError:
        return None


@dataclass(frozen=True)
class Deck:
    """The cards people vote with, in order from smallest to largest."""

    name: DeckName
    cards: tuple[str, ...]

    @property
    def estimates(self) -> tuple[str, ...]:
        """The cards that are an estimate (not ? or ☕)."""
        return tuple(c for c in self.cards if c not in NON_ESTIMATES)

    @property
    def is_numeric(self) -> bool:
        return all(card_value(c) is not None for c in self.estimates) and bool(self.estimates)

    def points(self, card: str) -> float | None:
        """The points a card counts for in a sprint (None for T-shirt sizes, ? and ☕)."""
        return card_value(card) if self.is_numeric and card not in NON_ESTIMATES else None


def standard_deck(name: DeckName) -> Deck:
    return Deck(name, STANDARD_DECKS[name])


def parse_custom_deck(text: str) -> Deck:
    """A custom deck from a comma-separated list: 2 to 25 distinct cards, each short enough for a button."""
    cards = [c.strip() for c in (text or "").split(",")]
    cards = [c for c in cards if c]
    if len(cards) < DECK_MIN_CARDS:
        raise InvalidInput(f"A custom deck needs at least {DECK_MIN_CARDS} cards, separated by commas.")
    if len(cards) > DECK_MAX_CARDS:
        raise InvalidInput(f"A custom deck can have at most {DECK_MAX_CARDS} cards; this one has {len(cards)}.")
    too_long = [c for c in cards if len(c) > CARD_MAX_LENGTH]
    if too_long:
        raise InvalidInput(f"A card can be at most {CARD_MAX_LENGTH} characters: `{too_long[0][:20]}…` is longer.")
    duplicates = sorted({c for c in cards if cards.count(c) > 1})
    if duplicates:
        raise InvalidInput(f"Each card must be different; `{duplicates[0]}` is there twice.")
    if len([c for c in cards if c not in NON_ESTIMATES]) < DECK_MIN_CARDS:
        raise InvalidInput(f"A custom deck needs at least {DECK_MIN_CARDS} cards besides {UNSURE} and {COFFEE}.")
    return Deck(DeckName.CUSTOM, tuple(cards))


def deck_from(name: str, custom: str | None = None) -> Deck:
    """The deck chosen by name (custom cards from `custom`)."""
    try:
        deck_name = DeckName(name)
    except ValueError:
        raise InvalidInput(f"I don't know the deck `{name[:40]}`.") from None
    if deck_name is DeckName.CUSTOM:
        return parse_custom_deck(custom or "")
    return standard_deck(deck_name)


# -- stories -------------------------------------------------------------------------------------------------------

STORY_KEY = re.compile(r"^([A-Z][A-Z0-9]{0,15}-\d{1,10})\b[\s:—–-]*(.*)$")
URL = re.compile(r"^https?://\S+$")


@dataclass(frozen=True)
class StoryDraft:
    """A story to estimate: an optional issue key such as PAY-123 and its title (or a URL)."""

    key: str | None
    title: str

    @property
    def label(self) -> str:
        return f"{self.key} {self.title}".strip() if self.key else self.title


def parse_story(line: str) -> StoryDraft:
    """One story from a line like `PAY-123 Pay by card`, a URL, or just a title."""
    line = " ".join(line.split())
    match = STORY_KEY.match(line)
    if match:
        key, title = match.group(1), match.group(2).strip()
    else:
        key, title = None, line
    if len(title) > STORY_TITLE_MAX_LENGTH:
        raise InvalidInput(f"A story title can be at most {STORY_TITLE_MAX_LENGTH} characters.")
    return StoryDraft(key=key, title=title)


def parse_stories(text: str, *, separator: str = "\n") -> list[StoryDraft]:
    """The stories of a session, one per line (or per comma with `separator=","`); 1 to 40 of them."""
    parts = [p.strip() for p in (text or "").split(separator)]
    stories = [parse_story(p) for p in parts if p]
    if not stories:
        raise InvalidInput("Give at least one story, e.g. `PAY-123 Pay by card`.")
    if len(stories) > STORIES_MAX:
        raise InvalidInput(f"A session can have at most {STORIES_MAX} stories; start another for the rest.")
    return stories


def parse_command_stories(text: str) -> list[StoryDraft]:
    """Stories typed after `/poker`: separated by commas, or by new lines."""
    return parse_stories(text, separator="\n" if "\n" in text else ",")


# -- a round's result ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vote:
    user_id: str
    card: str
    reason: str | None = None


@dataclass(frozen=True)
class RoundResult:
    """What the team sees at reveal: every vote, and for numeric decks the average, median and spread."""

    votes: tuple[Vote, ...]
    average: float | None
    median: float | None
    spread: float | None
    consensus: bool
    highest: tuple[str, ...]  # voters of the highest estimate, when estimates differ
    lowest: tuple[str, ...]
    suggestion: str | None  # the median rounded up to a card, preselected on Accept

    @property
    def counted(self) -> int:
        return len([v for v in self.votes if v.card not in NON_ESTIMATES])


def round_result(deck: Deck, votes: Sequence[Vote]) -> RoundResult:
    """The statistics of one round: ? and ☕ do not count; consensus is all equal or two neighbouring cards."""
    index = {card: i for i, card in enumerate(deck.cards)}
    estimates = [v for v in votes if v.card not in NON_ESTIMATES and v.card in index]
    if not estimates:
        return RoundResult(tuple(votes), None, None, None, False, (), (), None)
    positions = [index[v.card] for v in estimates]
    low, high = min(positions), max(positions)
    consensus = high - low <= 1
    highest = tuple(v.user_id for v in estimates if index[v.card] == high) if high != low else ()
    lowest = tuple(v.user_id for v in estimates if index[v.card] == low) if high != low else ()
    average = median = spread = None
    if deck.is_numeric:
        values = [card_value(v.card) or 0.0 for v in estimates]
        average = statistics.fmean(values)
        median = statistics.median(values)
        spread = max(values) - min(values)
        suggestion = next(
            (c for c in deck.estimates if (card_value(c) or 0.0) >= median - 1e-9), deck.estimates[-1]
        )
    else:
        ordered = sorted(positions)
        suggestion = deck.cards[ordered[len(ordered) // 2]]  # the upper median: rounded up to a card
    return RoundResult(tuple(votes), average, median, spread, consensus, highest, lowest, suggestion)


# -- who may do what -------------------------------------------------------------------------------------------------


def check_may_reveal(*, user_id: str, facilitator_id: str, policy: RevealPolicy) -> None:
    if policy is RevealPolicy.ANYONE or user_id == facilitator_id:
        return
    raise NotAllowed(f"Only <@{facilitator_id}> can reveal the votes.")


def check_is_facilitator(*, user_id: str, facilitator_id: str, what: str) -> None:
    if user_id != facilitator_id:
        raise NotAllowed(f"Only <@{facilitator_id}> can {what}.")


def check_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput(f"A reason can be at most {REASON_MAX_LENGTH} characters.")
    return reason


@dataclass(frozen=True)
class SummaryLine:
    label: str
    estimate: str | None  # None: skipped or never estimated
    points: float | None


def total_points(lines: Sequence[SummaryLine]) -> float:
    """The sum of the accepted numeric estimates."""
    return sum(line.points for line in lines if line.points is not None)


def format_number(value: float) -> str:
    """2.0 → "2", 2.5 → "2.5", 0.3333 → "0.3"."""
    if abs(value - round(value)) < 1e-9:
        return str(round(value))
    return f"{value:.1f}"
