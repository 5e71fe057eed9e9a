"""Retrospective boards: templates, phases, cards and their groups, dot voting, action items, anonymity and export.

Plain data in and out; the time is always a parameter.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from ceremonies.errors import InvalidInput, NotAllowed, NotFound

# Documented limits (they are also the column lengths in storage/retro.py).
TITLE_MAX = 150
COLUMN_NAME_MAX = 40
MIN_COLUMNS = 1
MAX_COLUMNS = 6
CARD_TEXT_MAX = 500
ACTION_TEXT_MAX = 300
MIN_VOTES = 1
MAX_VOTES = 20
DEFAULT_VOTES = 3
DISCUSS_TOP = 5
REMINDER_LOCAL_TIME = time(9, 0)
AUTHOR_KEY_LENGTH = 64


class Phase(StrEnum):
    COLLECT = "collect"
    REVEAL = "reveal"
    GROUP = "group"
    VOTE = "vote"
    DISCUSS = "discuss"
    ACTIONS = "actions"
    CLOSED = "closed"


PHASES: tuple[Phase, ...] = tuple(Phase)
PHASE_LABELS = {
    Phase.COLLECT: "Collecting cards",
    Phase.REVEAL: "Cards revealed",
    Phase.GROUP: "Grouping",
    Phase.VOTE: "Voting",
    Phase.DISCUSS: "Discussing",
    Phase.ACTIONS: "Action items",
    Phase.CLOSED: "Closed",
}


class Template(StrEnum):
    WELL_IMPROVE_IDEAS = "well_improve_ideas"
    START_STOP_CONTINUE = "start_stop_continue"
    MAD_SAD_GLAD = "mad_sad_glad"
    FOUR_LS = "four_ls"
    CUSTOM = "custom"


TEMPLATE_COLUMNS: dict[Template, tuple[str, ...]] = {
    Template.WELL_IMPROVE_IDEAS: ("Went well", "To improve", "Ideas"),
    Template.START_STOP_CONTINUE: ("Start", "Stop", "Continue"),
    Template.MAD_SAD_GLAD: ("Mad", "Sad", "Glad"),
    Template.FOUR_LS: ("Liked", "Learned", "Lacked", "Longed for"),
}
TEMPLATE_LABELS = {
    Template.WELL_IMPROVE_IDEAS: "Went well / To improve / Ideas",
    Template.START_STOP_CONTINUE: "Start / Stop / Continue",
    Template.MAD_SAD_GLAD: "Mad / Sad / Glad",
    Template.FOUR_LS: "4Ls: Liked / Learned / Lacked / Longed for",
    Template.CUSTOM: "Custom columns",
}
DEFAULT_TEMPLATE = Template.WELL_IMPROVE_IDEAS


# -- errors --------------------------------------------------------------------------------------------------------
class BoardNotFound(NotFound):
    def __init__(self, number: str | None = None) -> None:
        super().__init__(f"There is no retro board #{number} in this workspace." if number is not None
                         else "That retro board no longer exists.")


class NoRetroYet(NotFound):
    def __init__(self) -> None:
        super().__init__("This channel has no retro board yet; start one with `/retro`.")


class BoardClosed(NotAllowed):
    def __init__(self) -> None:
        super().__init__("This retro is closed; nothing on it can change any more.")


class NotFacilitator(NotAllowed):
    def __init__(self) -> None:
        super().__init__("Only the facilitator (who started the retro) can do that.")


class WrongPhase(NotAllowed):
    def __init__(self, what: str, phase: Phase) -> None:
        super().__init__(f"{what} is not possible now: the retro is at “{PHASE_LABELS[phase]}”.")


class RetroAlreadyRunning(NotAllowed):
    def __init__(self) -> None:
        super().__init__("A retro is already running in this channel; its facilitator must close it first.")


class CardNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("That card no longer exists.")


class NotYourCard(NotAllowed):
    def __init__(self) -> None:
        super().__init__("You can only change your own cards.")


class VoteBudgetExceeded(NotAllowed):
    def __init__(self, budget: int) -> None:
        super().__init__(f"You have used all {budget} of your votes. Reset your votes to vote differently.")


class AlreadyVotedOnCard(NotAllowed):
    def __init__(self) -> None:
        super().__init__("You already voted on this card; this retro allows one vote per card.")


class CannotMerge(InvalidInput):
    """A merge that makes no sense (a card into itself, into a card that is itself merged)."""


class ActionItemNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("That action item no longer exists.")


class NotOwnerOrFacilitator(NotAllowed):
    def __init__(self) -> None:
        super().__init__("Only the action item's owner or the retro's facilitator can settle it.")


class ActionItemSettled(NotAllowed):
    def __init__(self) -> None:
        super().__init__("That action item was already settled.")


# -- setting a board up --------------------------------------------------------------------------------------------
TitleSource = Callable[[date], str | None]


def default_title(today: date, *, sources: Sequence[TitleSource] = ()) -> str:
    """The title a new retro starts with: the first name a source offers (e.g. the current sprint's), else the date.

    A later feature adds a source (`lambda today: current_sprint_name(...)`) without changing this function.
    """
    for source in sources:
        name = source(today)
        if name:
            return name[:TITLE_MAX]
    return f"Retro {today.isoformat()}"


@dataclass(frozen=True)
class RetroSetup:
    """What the facilitator chose in the start modal, validated."""

    title: str
    template: Template
    columns: tuple[str, ...]
    anonymous: bool = True
    votes_per_person: int = DEFAULT_VOTES
    multiple_votes_per_card: bool = False


def parse_custom_columns(text: str) -> tuple[str, ...]:
    """Custom columns, one per line (or comma separated); refuses empty, duplicate, too many or too long names."""
    raw = text.replace(",", "\n").splitlines()
    names = tuple(name.strip() for name in raw if name.strip())
    if len(names) < MIN_COLUMNS:
        raise InvalidInput("Give at least one column, one per line.")
    if len(names) > MAX_COLUMNS:
        raise InvalidInput(f"A board has at most {MAX_COLUMNS} columns.")
    too_long = [n for n in names if len(n) > COLUMN_NAME_MAX]
    if too_long:
        raise InvalidInput(f"Column names have at most {COLUMN_NAME_MAX} characters.")
    if len({n.casefold() for n in names}) != len(names):
        raise InvalidInput("Two columns have the same name.")
    return names


def validate_setup(
    *,
    title: str,
    template: str,
    custom_columns: str,
    anonymous: bool,
    votes_per_person: str,
    multiple_votes_per_card: bool,
) -> tuple[RetroSetup | None, dict[str, str]]:
    """The setup, or the problems by field (`title`, `template`, `columns`, `votes`) to show in the modal."""
    problems: dict[str, str] = {}
    title = title.strip()
    if not title:
        problems["title"] = "Give the retro a title."
    elif len(title) > TITLE_MAX:
        problems["title"] = f"A title has at most {TITLE_MAX} characters."
    try:
        chosen = Template(template)
    except ValueError:
        problems["template"] = "Choose a template."
        chosen = DEFAULT_TEMPLATE
    columns: tuple[str, ...] = TEMPLATE_COLUMNS.get(chosen, ())
    if chosen is Template.CUSTOM:
        try:
            columns = parse_custom_columns(custom_columns)
        except InvalidInput as error:
            problems["columns"] = str(error)
    votes = 0
    try:
        votes = int(votes_per_person.strip())
    except ValueError:
        problems["votes"] = f"Give a whole number from {MIN_VOTES} to {MAX_VOTES}."
    else:
        if not MIN_VOTES <= votes <= MAX_VOTES:
            problems["votes"] = f"Give a whole number from {MIN_VOTES} to {MAX_VOTES}."
    if problems:
        return None, problems
    return RetroSetup(title, chosen, columns, anonymous, votes, multiple_votes_per_card), {}


# -- phases --------------------------------------------------------------------------------------------------------
def next_phase(phase: Phase) -> Phase | None:
    """The phase after `phase`; None after closing."""
    index = PHASES.index(phase)
    return PHASES[index + 1] if index + 1 < len(PHASES) else None


def check_advance(*, phase: Phase, target: Phase, facilitator_id: str, user_id: str) -> bool:
    """May `user_id` move the board from `phase` to `target`? False when it is there already (a repeated click).

    Only the facilitator moves phases, one step at a time; a closed board never moves.
    """
    if phase is Phase.CLOSED:
        raise BoardClosed
    if user_id != facilitator_id:
        raise NotFacilitator
    if phase is target:
        return False
    if next_phase(phase) is not target:
        raise WrongPhase(f"Moving to “{PHASE_LABELS[target]}”", phase)
    return True


def require_phase(phase: Phase, allowed: Iterable[Phase], what: str) -> None:
    """Refuse `what` unless the board is in one of the `allowed` phases."""
    if phase is Phase.CLOSED:
        raise BoardClosed
    if phase not in tuple(allowed):
        raise WrongPhase(what, phase)


# -- cards ---------------------------------------------------------------------------------------------------------
def validate_card_text(text: str | None) -> str:
    """The card's text, trimmed; refuses an empty card and one over the limit."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidInput("A card needs some text.")
    if len(cleaned) > CARD_TEXT_MAX:
        raise InvalidInput(f"A card has at most {CARD_TEXT_MAX} characters; this one has {len(cleaned)}.")
    return cleaned


def author_key(secret: str, *, team_id: str, board_id: int, user_id: str) -> str:
    """The keyed hash standing for a card's author on an anonymous board.

    Only the server, holding the secret, can tell whether a given person wrote a card; the hash differs from board to
    board so cards of two boards cannot be linked to each other.
    """
    message = f"retro-author\x1f{team_id}\x1f{board_id}\x1f{user_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Card:
    """A card as the board shows it. `author_id` is only ever set on a named board."""

    id: int
    column: int
    text: str
    votes: int = 0
    merged_into: int | None = None
    author_id: str | None = None


@dataclass(frozen=True)
class CardGroup:
    """A card with the cards merged into it; its votes are theirs added up."""

    lead: Card
    members: tuple[Card, ...] = ()

    @property
    def id(self) -> int:
        return self.lead.id

    @property
    def column(self) -> int:
        return self.lead.column

    @property
    def cards(self) -> tuple[Card, ...]:
        return (self.lead, *self.members)

    @property
    def votes(self) -> int:
        return sum(card.votes for card in self.cards)


def group_cards(cards: Iterable[Card]) -> list[CardGroup]:
    """Cards gathered into groups (a card merged into a merged card joins the final lead), in card order."""
    by_id = {card.id: card for card in cards}

    def lead_of(card: Card) -> int:
        seen: set[int] = set()
        while card.merged_into is not None and card.merged_into in by_id and card.id not in seen:
            seen.add(card.id)
            card = by_id[card.merged_into]
        return card.id

    members: dict[int, list[Card]] = {}
    for card in sorted(by_id.values(), key=lambda c: c.id):
        lead = lead_of(card)
        if lead != card.id:
            members.setdefault(lead, []).append(card)
    return [
        CardGroup(card, tuple(members.get(card.id, ())))
        for card in sorted(by_id.values(), key=lambda c: (c.column, c.id))
        if lead_of(card) == card.id
    ]


def check_merge(cards: Iterable[Card], *, source_id: int, target_id: int) -> None:
    """Refuse merging a card into itself, into a card already merged elsewhere, or cards that are not on the board."""
    by_id = {card.id: card for card in cards}
    if source_id not in by_id or target_id not in by_id:
        raise CardNotFound
    if source_id == target_id:
        raise CannotMerge("A card cannot be merged into itself.")
    if by_id[target_id].merged_into is not None:
        raise CannotMerge("That card is already part of another group; merge into the group's first card.")
    if by_id[source_id].merged_into is not None:
        raise CannotMerge("That card is already part of a group.")


def discussion_order(groups: Iterable[CardGroup]) -> list[CardGroup]:
    """Groups by votes, most first; ties keep board order."""
    return sorted(groups, key=lambda g: (-g.votes, g.column, g.id))


def to_discuss(groups: Iterable[CardGroup], top: int = DISCUSS_TOP) -> list[CardGroup]:
    """The groups posted one by one for discussion: the most voted, those with no votes only if none has any."""
    ordered = discussion_order(groups)
    voted = [g for g in ordered if g.votes > 0]
    return (voted or ordered)[:top]


# -- votes ---------------------------------------------------------------------------------------------------------
def check_vote(*, used: int, budget: int, on_this_card: int, multiple_per_card: bool) -> None:
    """Refuse a vote past the person's budget, or a second vote on one card where that is not allowed."""
    if used >= budget:
        raise VoteBudgetExceeded(budget)
    if on_this_card > 0 and not multiple_per_card:
        raise AlreadyVotedOnCard


def free_slot(taken: Iterable[int], budget: int) -> int:
    """The lowest vote slot (0 … budget-1) not yet used; one slot is one vote, so a person never holds more."""
    used = set(taken)
    for slot in range(budget):
        if slot not in used:
            return slot
    raise VoteBudgetExceeded(budget)


# -- action items --------------------------------------------------------------------------------------------------
class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class ReviewOutcome(StrEnum):
    DONE = "done"
    NOT_DONE = "not_done"
    DROPPED = "dropped"


OUTCOME_LABELS = {ReviewOutcome.DONE: "Done", ReviewOutcome.NOT_DONE: "Not done", ReviewOutcome.DROPPED: "Dropped"}


def status_after(outcome: ReviewOutcome) -> ActionStatus:
    """The item's status after its review; not done keeps it open, so it carries forward to the next retro."""
    return {
        ReviewOutcome.DONE: ActionStatus.DONE,
        ReviewOutcome.NOT_DONE: ActionStatus.OPEN,
        ReviewOutcome.DROPPED: ActionStatus.DROPPED,
    }[outcome]


def check_reviewer(*, user_id: str, owner_id: str, facilitator_id: str) -> None:
    if user_id not in (owner_id, facilitator_id):
        raise NotOwnerOrFacilitator


@dataclass(frozen=True)
class NewActionItem:
    text: str
    owner_id: str
    due: date | None
    card_id: int | None = None


def validate_action_item(
    *, text: str | None, owner_id: str | None, due: date | None, card_id: int | None, today: date
) -> tuple[NewActionItem | None, dict[str, str]]:
    """The new item, or problems by field (`text`, `owner`, `due`)."""
    problems: dict[str, str] = {}
    cleaned = (text or "").strip()
    if not cleaned:
        problems["text"] = "Say what is to be done."
    elif len(cleaned) > ACTION_TEXT_MAX:
        problems["text"] = f"An action item has at most {ACTION_TEXT_MAX} characters; this one has {len(cleaned)}."
    if not owner_id:
        problems["owner"] = "Choose who owns it."
    if due is not None and due < today:
        problems["due"] = "The due date is in the past."
    if problems:
        return None, problems
    assert owner_id is not None
    return NewActionItem(cleaned, owner_id, due, card_id), {}


def reminder_at(due: date, timezone: str) -> datetime:
    """When the owner is reminded of an item due on `due`: 09:00 that day in their timezone, as UTC."""
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = datetime.combine(due, REMINDER_LOCAL_TIME, tzinfo=zone)
    return local.astimezone(ZoneInfo("UTC"))


def reminder_key(item_id: int, due: date) -> str:
    """The claim key of an item's due-date reminder: one per item per due date."""
    return f"retro.action_due:{item_id}:{due.isoformat()}"


# A reminder missed while the app was down is sent when it is back, up to a week late; older ones are not.
REMINDER_CATCH_UP = timedelta(days=7)


# -- statistics (for the sprint summary) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RetroStats:
    """What the retros of a channel produced over a period.

    `completion_rate` is done / reviewed for the items the last retro in the period reviewed (items of the previous
    retros); None when it reviewed none.
    """

    boards: int
    top_cards: tuple[tuple[str, int], ...]
    action_items_created: int
    action_items_done: int
    action_items_dropped: int
    action_items_carried_over: int
    previous_items_reviewed: int
    previous_items_done: int

    @property
    def completion_rate(self) -> float | None:
        if not self.previous_items_reviewed:
            return None
        return self.previous_items_done / self.previous_items_reviewed


# -- export --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportedAction:
    text: str
    owner: str
    due: date | None
    status: ActionStatus


@dataclass(frozen=True)
class BoardExport:
    """A board as exported: authors are names on a named board and never present on an anonymous one."""

    board_id: int
    title: str
    created_at: datetime
    phase: Phase
    anonymous: bool
    columns: tuple[str, ...]
    groups: tuple[CardGroup, ...]
    votes_visible: bool
    authors: dict[int, str] = field(default_factory=dict)  # card id -> name; empty on an anonymous board
    actions: tuple[ExportedAction, ...] = ()


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def export_markdown(board: BoardExport) -> str:
    """The board as a Markdown document: cards by column (groups nested), votes once voting is over, action items."""
    lines = [f"# {_md(board.title)}", ""]
    mode = "anonymous" if board.anonymous else "named"
    lines.append(f"_{board.created_at.date().isoformat()} · {PHASE_LABELS[board.phase]} · {mode} cards_")
    for index, column in enumerate(board.columns):
        lines += ["", f"## {_md(column)}", ""]
        groups = [g for g in board.groups if g.column == index]
        if board.votes_visible:
            groups = discussion_order(groups)
        if not groups:
            lines.append("_No cards._")
        for group in groups:
            votes = f" **({group.votes} vote{'s' if group.votes != 1 else ''})**" if board.votes_visible else ""
            lines.append(f"- {_md(group.lead.text)}{_by(board, group.lead)}{votes}")
            lines.extend(f"  - {_md(card.text)}{_by(board, card)}" for card in group.members)
    lines += ["", "## Action items", ""]
    if not board.actions:
        lines.append("_None._")
    for action in board.actions:
        due = f", due {action.due.isoformat()}" if action.due else ""
        box = "x" if action.status is ActionStatus.DONE else " "
        dropped = " (dropped)" if action.status is ActionStatus.DROPPED else ""
        lines.append(f"- [{box}] {_md(action.text)} — {_md(action.owner)}{due}{dropped}")
    return "\n".join(lines) + "\n"


def _by(board: BoardExport, card: Card) -> str:
    if board.anonymous:
        return ""
    name = board.authors.get(card.id)
    return f" — {_md(name)}" if name else ""


def export_csv(board: BoardExport) -> str:
    """The board as CSV: one row per card (`card`) and per action item (`action`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kind", "column", "text", "votes", "group", "author", "owner", "due", "status"])
    for group in board.groups:
        for card in group.cards:
            writer.writerow([
                "card",
                board.columns[card.column] if card.column < len(board.columns) else "",
                card.text,
                card.votes if board.votes_visible else "",
                group.id,
                "" if board.anonymous else board.authors.get(card.id, ""),
                "",
                "",
                "",
            ])
    for action in board.actions:
        writer.writerow(["action", "", action.text, "", "", "", action.owner,
                         action.due.isoformat() if action.due else "", action.status.value])
    return out.getvalue()

