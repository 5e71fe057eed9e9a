"""The sprint review: when it may be held, what each story's verdicts add up to, and the review's outcome.

Stakeholders and the team react per story: **Accepted** or **Needs changes** (with a note; one verdict per person
and story, the latest counts) and any number of **Questions**. A story needs changes as soon as anyone says so
(the team talks it through rather than out-voting a stakeholder), is accepted when at least one person accepted it
and nobody asked for changes, and is undecided otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from ceremonies.errors import InvalidInput, NotAllowed

NOTE_LIMIT = 1000  # a needs-changes note
QUESTION_LIMIT = 1000
REVIEW_NOTE_LIMIT = 500  # the facilitator's note on the review (where, when, what to look at)
LINK_LIMIT = 500
DAYS_BEFORE_END = 3  # a running sprint may be reviewed from this many days before its last day
DAYS_AFTER_END = 7  # and an ended one until this many days after it ended
WINDOWS = {"4h": timedelta(hours=4), "1d": timedelta(days=1), "2d": timedelta(days=2), "3d": timedelta(days=3)}
WINDOW_NAMES = {"4h": "4 hours", "1d": "1 day", "2d": "2 days", "3d": "3 days"}
DEFAULT_WINDOW = "1d"
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{1,30}$")
SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{1,30}$")
URL = re.compile(r"https?://[^\s<>|\"']{1,480}")


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    NEEDS_CHANGES = "needs_changes"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    NEEDS_CHANGES = "needs_changes"
    UNDECIDED = "undecided"


# -- holding a review ------------------------------------------------------------------------------------------------
def check_reviewable(*, name: str, ends_on: date, timezone: str, ended_at: datetime | None, now: datetime) -> None:
    """A sprint is reviewed at or near its end: from 3 days before its last day until 7 days after it ended."""
    if ended_at is not None:
        if now - ended_at > timedelta(days=DAYS_AFTER_END):
            raise InvalidInput(f"“{name}” ended more than {DAYS_AFTER_END} days ago; start the next sprint's review "
                               "near its end.")
        return
    today = now.astimezone(ZoneInfo(timezone)).date()
    opens_on = ends_on - timedelta(days=DAYS_BEFORE_END)
    if today < opens_on:
        raise InvalidInput(f"“{name}” ends on {ends_on:%a} {ends_on.day} {ends_on:%b}: its review can start from "
                           f"{opens_on:%a} {opens_on.day} {opens_on:%b}, {DAYS_BEFORE_END} days before its last day.")


def parse_window(value: str | None) -> timedelta:
    """How long the review stays open for reactions."""
    window = WINDOWS.get(value or DEFAULT_WINDOW)
    if window is None:
        raise InvalidInput("pick how long the review stays open.")
    return window


def clean_review_note(text: str | None) -> str:
    note = (text or "").strip()
    if len(note) > REVIEW_NOTE_LIMIT:
        raise InvalidInput(f"the note is longer than {REVIEW_NOTE_LIMIT} characters.")
    return note


def clean_note(text: str | None) -> str:
    """A needs-changes note: required, since it becomes the follow-up story."""
    note = (text or "").strip()
    if not note:
        raise InvalidInput("Say what needs to change: the note can become a follow-up story.")
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(f"The note is longer than {NOTE_LIMIT} characters.")
    return note


def clean_question(text: str | None) -> str:
    question = (text or "").strip()
    if not question:
        raise InvalidInput("Write the question for the presenter.")
    if len(question) > QUESTION_LIMIT:
        raise InvalidInput(f"The question is longer than {QUESTION_LIMIT} characters.")
    return question


def slack_users(ids: Iterable[str | None]) -> list[str]:
    """The user ids among `ids` (a select's payload comes from outside: anything else is dropped), unique, in order."""
    return list(dict.fromkeys(i for i in ids if i and SLACK_USER.match(i)))


def slack_channel(channel_id: str | None) -> str | None:
    return channel_id if channel_id and SLACK_CHANNEL.match(channel_id) else None


def default_presenter(*, owner_id: str | None, facilitator_id: str) -> str:
    """Who presents a story unless the facilitator picks someone: its owner when the sprint knows one."""
    return owner_id if owner_id and SLACK_USER.match(owner_id) else facilitator_id


def story_link(*texts: str | None) -> str | None:
    """The first web link in a story's key or title (poker and `/sprint add` take links as titles)."""
    for text in texts:
        found = URL.search(text or "")
        if found:
            return found.group(0)[:LINK_LIMIT]
    return None


def follow_up_title(*, key: str | None, title: str, note: str, limit: int) -> str:
    """The follow-up story's title: what it follows up and what needs to change, within the story title's limit."""
    about = key or title or "a reviewed story"
    text = f"Follow-up to {about}: {' '.join(note.split())}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- who may do what -------------------------------------------------------------------------------------------------
def check_open(*, closed: bool) -> None:
    if closed:
        raise NotAllowed("This review is closed.")


def check_may_triage(*, user_id: str, facilitator_id: str, presenter_id: str) -> None:
    """Turning a note into a follow-up story is the facilitator's or the story's presenter's call."""
    if user_id not in (facilitator_id, presenter_id):
        raise NotAllowed(f"Only the review's facilitator (<@{facilitator_id}>) or the story's presenter "
                         f"(<@{presenter_id}>) can create a follow-up.")


def check_may_answer(*, user_id: str, asker_id: str, presenter_id: str, facilitator_id: str) -> None:
    if user_id not in (asker_id, presenter_id, facilitator_id):
        raise NotAllowed(f"Only the presenter (<@{presenter_id}>), whoever asked or the facilitator can mark this "
                         "question answered.")


# -- outcome ---------------------------------------------------------------------------------------------------------
def story_outcome(verdicts: Iterable[Verdict]) -> Outcome:
    """Needs changes when anyone asked for changes; accepted when someone accepted and nobody objected."""
    given = set(verdicts)
    if Verdict.NEEDS_CHANGES in given:
        return Outcome.NEEDS_CHANGES
    if Verdict.ACCEPTED in given:
        return Outcome.ACCEPTED
    return Outcome.UNDECIDED


@dataclass(frozen=True)
class StoryResult:
    """One reviewed story as it stands."""

    key: str | None
    title: str
    finished: bool
    presenter_id: str
    accepted_by: tuple[str, ...] = ()
    needs_changes_by: tuple[str, ...] = ()
    questions: int = 0
    questions_open: int = 0
    follow_ups: int = 0

    @property
    def outcome(self) -> Outcome:
        verdicts = [Verdict.ACCEPTED] * len(self.accepted_by) + [Verdict.NEEDS_CHANGES] * len(self.needs_changes_by)
        return story_outcome(verdicts)

    @property
    def label(self) -> str:
        return " ".join(part for part in (self.key, self.title) if part) or "(untitled)"


@dataclass(frozen=True)
class ReviewOutcome:
    """What the review came to: per story, and who took part (everyone who gave a verdict or asked)."""

    stories: tuple[StoryResult, ...]
    participants: tuple[str, ...]
    closed: bool

    def with_outcome(self, outcome: Outcome) -> list[StoryResult]:
        return [s for s in self.stories if s.outcome is outcome]

    @property
    def accepted(self) -> int:
        return len(self.with_outcome(Outcome.ACCEPTED))

    @property
    def needs_changes(self) -> int:
        return len(self.with_outcome(Outcome.NEEDS_CHANGES))

    @property
    def undecided(self) -> int:
        return len(self.with_outcome(Outcome.UNDECIDED))

    @property
    def questions(self) -> int:
        return sum(s.questions for s in self.stories)

    @property
    def questions_open(self) -> int:
        return sum(s.questions_open for s in self.stories)

    @property
    def with_open_questions(self) -> list[StoryResult]:
        return [s for s in self.stories if s.questions_open]

    @property
    def follow_ups(self) -> int:
        return sum(s.follow_ups for s in self.stories)
