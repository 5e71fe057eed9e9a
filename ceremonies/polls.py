"""Quick polls: the `/poll` argument syntax, the limits of a poll, closing times and the tally."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ceremonies.errors import InvalidInput, NotAllowed

# Documented limits (the storage columns are sized from these).
QUESTION_MAX_LENGTH = 500  # shown in a section with the results; a section holds 3000
OPTION_MAX_LENGTH = 75  # an option is a button's text
OPTIONS_MIN = 2
OPTIONS_MAX = 10
CLOSE_AFTER_MAX = timedelta(days=30)

USAGE = '/poll "Question?" "Option A" "Option B" [--multi] [--anonymous] [--close 2h]'

# Curly and low-9 quotes that phones and macOS put in for "…"; all open or close a quoted argument.
DOUBLE_QUOTES = frozenset('"“”„‟″«»')
FLAGS = ("--multi", "--anonymous", "--close")
DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?$")


@dataclass(frozen=True)
class PollDraft:
    """A poll as asked for, validated."""

    question: str
    options: tuple[str, ...]
    multi: bool = False
    anonymous: bool = False
    close_after: timedelta | None = None

    def closes_at(self, now: datetime) -> datetime | None:
        return now + self.close_after if self.close_after else None


def split_arguments(text: str) -> list[str]:
    """The arguments of `/poll`: quoted with straight or curly double quotes, or single words.

    An apostrophe is just a letter (`"Don't know"`); an unbalanced double quote is refused.
    """
    tokens: list[str] = []
    current: list[str] = []
    quoted = False
    in_token = False
    for char in text or "":
        if char in DOUBLE_QUOTES:
            if quoted:
                tokens.append("".join(current))
                current, quoted, in_token = [], False, False
            else:
                if in_token:
                    tokens.append("".join(current))
                    current = []
                quoted, in_token = True, True
        elif char.isspace() and not quoted:
            if in_token:
                tokens.append("".join(current))
                current, in_token = [], False
        else:
            current.append(char)
            in_token = True
    if quoted:
        raise InvalidInput(f"A quote is not closed. Usage: `{USAGE}`")
    if in_token:
        tokens.append("".join(current))
    return tokens


def parse_duration(text: str) -> timedelta:
    """`30m`, `2h`, `1d`, `1h30m` as a duration (at most 30 days)."""
    match = DURATION.match((text or "").strip().lower())
    if not text or not match or not any(match.groups()):
        raise InvalidInput(f"`{(text or '')[:20]}` is not a duration; use e.g. `30m`, `2h` or `1d`.")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes)
    if duration <= timedelta(0):
        raise InvalidInput("A poll must stay open for at least a minute.")
    if duration > CLOSE_AFTER_MAX:
        raise InvalidInput("A poll can stay open for at most 30 days.")
    return duration


def parse_command(text: str) -> PollDraft:
    """The poll typed after `/poll`: a question, 2 to 10 options and flags."""
    tokens = split_arguments(text)
    words: list[str] = []
    multi = anonymous = False
    close_after: timedelta | None = None
    position = 0
    while position < len(tokens):
        token = tokens[position]
        flag = token.lower().replace("—", "--").replace("–", "--")
        if flag == "--multi":
            multi = True
        elif flag == "--anonymous":
            anonymous = True
        elif flag == "--close":
            if position + 1 >= len(tokens):
                raise InvalidInput("`--close` needs a duration, e.g. `--close 2h`.")
            position += 1
            close_after = parse_duration(tokens[position])
        elif flag.startswith("--"):
            raise InvalidInput(f"I don't know the option `{token[:30]}`. Usage: `{USAGE}`")
        else:
            words.append(token)
        position += 1
    if not words:
        raise InvalidInput(f"Give a question and options. Usage: `{USAGE}`")
    return validate(words[0], words[1:], multi=multi, anonymous=anonymous, close_after=close_after)


def validate(
    question: str,
    options: Sequence[str],
    *,
    multi: bool = False,
    anonymous: bool = False,
    close_after: timedelta | None = None,
) -> PollDraft:
    """A poll within its limits: a question of at most 500 characters and 2 to 10 distinct short options."""
    problems = problems_of(question, options)
    if problems:
        raise InvalidInput(" ".join(problems.values()))
    return PollDraft(
        question=" ".join(question.split()),
        options=tuple(" ".join(o.split()) for o in options if o.strip()),
        multi=multi,
        anonymous=anonymous,
        close_after=close_after,
    )


def problems_of(question: str, options: Sequence[str]) -> dict[str, str]:
    """What is wrong with a question and its options, by field ("question", "options")."""
    problems: dict[str, str] = {}
    question = " ".join((question or "").split())
    cleaned = [" ".join(o.split()) for o in options if o and o.strip()]
    if not question:
        problems["question"] = "The poll needs a question."
    elif len(question) > QUESTION_MAX_LENGTH:
        problems["question"] = f"The question can be at most {QUESTION_MAX_LENGTH} characters; it has {len(question)}."
    if len(cleaned) < OPTIONS_MIN:
        problems["options"] = f"A poll needs at least {OPTIONS_MIN} options."
    elif len(cleaned) > OPTIONS_MAX:
        problems["options"] = f"A poll can have at most {OPTIONS_MAX} options; this one has {len(cleaned)}."
    elif too_long := [o for o in cleaned if len(o) > OPTION_MAX_LENGTH]:
        problems["options"] = (
            f"An option can be at most {OPTION_MAX_LENGTH} characters (a button's limit): `{too_long[0][:30]}…`."
        )
    elif len({o.casefold() for o in cleaned}) != len(cleaned):
        problems["options"] = "Each option must be different."
    return problems


def check_may_close(*, user_id: str, creator_id: str) -> None:
    if user_id != creator_id:
        raise NotAllowed(f"Only <@{creator_id}> can close this poll.")


@dataclass(frozen=True)
class OptionTally:
    text: str
    votes: int
    voters: tuple[str, ...] = field(default=())  # empty for anonymous polls


@dataclass(frozen=True)
class Tally:
    options: tuple[OptionTally, ...]
    voters: int  # people who voted

    @property
    def leaders(self) -> tuple[str, ...]:
        top = max((o.votes for o in self.options), default=0)
        return tuple(o.text for o in self.options if o.votes == top and top > 0)


def percent(votes: int, voters: int) -> int:
    return round(100 * votes / voters) if voters else 0
