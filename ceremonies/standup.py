"""Async stand-ups: the configuration rules, who is due a prompt or a reminder when, answers and their checks.

Plain data in, plain data out; the time is always a parameter. Scheduling uses ceremonies.schedule, so daylight
saving and the catch-up window are decided in one place.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from ceremonies.errors import InvalidInput
from ceremonies.schedule import DailyWindow, DateRange, daily_window, is_working_day, zone

MAX_QUESTIONS = 10
QUESTION_MAX_LENGTH = 300
ANSWER_MAX_LENGTH = 3000  # Slack's own limit for a plain-text input; stored in full, cut when posted
MAX_PARTICIPANTS = 1000
DEFAULT_QUESTIONS = (
    "What did you do since the last stand-up?",
    "What will you do today?",
    "Anything blocking you?",
)
DEFAULT_BLOCKER_INDEX = 2
DEFAULT_DAYS = frozenset({0, 1, 2, 3, 4})
DEFAULT_TIME = time(9, 30)
DEFAULT_WINDOW_END = time(17, 0)
DEFAULT_REMINDER = timedelta(hours=2)
REMINDER_CHOICES = (timedelta(0), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2),
                    timedelta(hours=3), timedelta(hours=4))
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class TimezoneMode(StrEnum):
    PERSON = "person"  # each participant's own Slack timezone
    TEAM = "team"  # one timezone for everyone


class ReportStyle(StrEnum):
    THREAD = "thread"  # one parent message a day, each answer a threaded reply
    PER_ANSWER = "per_answer"  # each answer its own message in the channel


@dataclass(frozen=True)
class Question:
    text: str
    is_blocker: bool = False
    required: bool = True


@dataclass(frozen=True)
class StandupConfig:
    """Everything `/standup setup` decides."""

    channel_id: str
    report_channel_id: str
    participants: tuple[str, ...]
    questions: tuple[Question, ...]
    usergroup_id: str | None = None
    days: frozenset[int] = DEFAULT_DAYS
    local_time: time = DEFAULT_TIME
    timezone_mode: TimezoneMode = TimezoneMode.PERSON
    team_timezone: str = "UTC"
    reminder_delay: timedelta = DEFAULT_REMINDER
    window_end: time = DEFAULT_WINDOW_END
    report_style: ReportStyle = ReportStyle.THREAD

    @property
    def blocker_index(self) -> int | None:
        return next((i for i, q in enumerate(self.questions) if q.is_blocker), None)


def default_questions() -> tuple[Question, ...]:
    return tuple(Question(text, is_blocker=i == DEFAULT_BLOCKER_INDEX, required=i != DEFAULT_BLOCKER_INDEX)
                 for i, text in enumerate(DEFAULT_QUESTIONS))


def config_problems(config: StandupConfig) -> dict[str, str]:
    """What is wrong with a configuration, by field name (empty when it can be saved)."""
    problems: dict[str, str] = {}
    if not config.participants:
        problems["participants"] = "Pick at least one participant (or a user group with members)."
    elif len(config.participants) > MAX_PARTICIPANTS:
        problems["participants"] = f"A stand-up can have at most {MAX_PARTICIPANTS} participants."
    if not config.questions:
        problems["questions"] = "Ask at least one question."
    elif len(config.questions) > MAX_QUESTIONS:
        problems["questions"] = f"At most {MAX_QUESTIONS} questions."
    elif too_long := [i + 1 for i, q in enumerate(config.questions) if len(q.text) > QUESTION_MAX_LENGTH]:
        problems["questions"] = f"Question {too_long[0]} is longer than {QUESTION_MAX_LENGTH} characters."
    if sum(q.is_blocker for q in config.questions) > 1:
        problems["blocker"] = "Only one question can be the blocker question."
    if not config.days:
        problems["days"] = "Pick at least one day of the week."
    if config.window_end <= config.local_time:
        problems["window_end"] = "The answer window must end after the stand-up time."
    if config.timezone_mode is TimezoneMode.TEAM:
        try:
            zone(config.team_timezone)
        except InvalidInput as exc:
            problems["team_timezone"] = str(exc)
    if config.reminder_delay < timedelta(0):
        problems["reminder"] = "The reminder delay cannot be negative."
    return problems


def participant_zone(config: StandupConfig, person_timezone: str | None, fallback: str) -> str:
    """The timezone a participant's day runs in: the team's, or their own Slack timezone (else `fallback`)."""
    if config.timezone_mode is TimezoneMode.TEAM:
        return config.team_timezone
    if person_timezone:
        try:
            zone(person_timezone)
        except InvalidInput:
            return fallback
        return person_timezone
    return fallback


def answer_window(config: StandupConfig, day: date, tz_name: str) -> DailyWindow:
    """When a participant's prompt is due and their answers stop being on time, on local `day`."""
    return daily_window(day, opens=config.local_time, closes=config.window_end, tz=zone(tz_name))


@dataclass(frozen=True)
class Participant:
    """One participant as the scheduler sees them on a tick."""

    user_id: str
    timezone: str
    away: tuple[DateRange, ...] = ()


@dataclass(frozen=True)
class DuePrompt:
    user_id: str
    local_date: date
    due_at: datetime
    closes_at: datetime
    timezone: str


@dataclass(frozen=True)
class Absence:
    """A participant with no prompt on their local date today: away, or the whole workspace on holiday."""

    user_id: str
    local_date: date
    reason: str  # "away" | "holiday"


@dataclass
class DueWork:
    prompts: list[DuePrompt] = field(default_factory=list)
    absences: list[Absence] = field(default_factory=list)


def due_prompts(config: StandupConfig, participants: Iterable[Participant], *, now: datetime,
                holidays: Iterable[date] = (), force: bool = False) -> DueWork:
    """Who should get a prompt at `now`: the participants whose window is open on a stand-up day of theirs.

    A prompt whose local time passed while the app was down is still due while that day's window is open (catch-up);
    after the window closed it never is. `force` (`/standup now`) makes today's prompt due at once for everyone not
    away, whatever the day and the time.
    """
    holiday_days = set(holidays)
    work = DueWork()
    for person in participants:
        tz = zone(person.timezone)
        today = now.astimezone(tz).date()
        days = [today] if force else [today - timedelta(days=1), today]
        for day in days:
            window = answer_window(config, day, person.timezone)
            if force:  # open now, for at least as long as a scheduled day's window
                window = DailyWindow(day, now, max(window.closes_at, now + (window.closes_at - window.opens_at)))
            elif not window.is_open(now):
                continue
            if not force and not is_working_day(day, weekdays=config.days):
                continue
            if any(day in r for r in person.away):
                work.absences.append(Absence(person.user_id, day, "away"))
                continue
            if not force and day in holiday_days:
                work.absences.append(Absence(person.user_id, day, "holiday"))
                continue
            work.prompts.append(DuePrompt(person.user_id, day, window.opens_at, window.closes_at, person.timezone))
    return work


NEXT_PROMPT_HORIZON_DAYS = 8  # how far ahead the next prompt is looked for; beyond it, the schedule looks again


def next_prompt_at(config: StandupConfig, participants: Iterable[Participant], *, now: datetime,
                   holidays: Iterable[date] = (), prompted: Collection[tuple[str, date]] = (),
                   horizon_days: int = NEXT_PROMPT_HORIZON_DAYS) -> datetime | None:
    """When this stand-up's next prompt falls due: the earliest window, open at `now` or later, on a stand-up day of a
    participant (not a holiday, not one of their days away) for which they have no prompt yet (`prompted`: (user,
    local date) pairs). At or before `now` means a prompt is due now; None: none within `horizon_days`.

    The same rules as `due_prompts`, so that the scheduler wakes exactly when `due_prompts` has work.
    """
    holiday_days = frozenset(holidays)
    best: datetime | None = None
    for person in participants:
        today = now.astimezone(zone(person.timezone)).date()
        for offset in range(-1, horizon_days + 1):
            day = today + timedelta(days=offset)
            window = answer_window(config, day, person.timezone)
            if window.closes_at <= now:
                continue
            if best is not None and window.opens_at >= best:
                break  # this person's later windows open later still
            if not is_working_day(day, weekdays=config.days, holidays=holiday_days, away=person.away):
                continue
            if (person.user_id, day) in prompted:
                continue
            best = window.opens_at
            break
    return best


def reminder_due(config: StandupConfig, *, due_at: datetime, closes_at: datetime, now: datetime) -> bool:
    """True when a prompt due (or, if later, sent) at `due_at` and not answered deserves its one reminder at `now`.

    A prompt sent late after an outage is reminded a full delay after it was sent, never straight away.
    """
    return reminder_due_after(config.reminder_delay, due_at=due_at, closes_at=closes_at, now=now)


def reminder_due_after(delay: timedelta, *, due_at: datetime, closes_at: datetime, now: datetime) -> bool:
    """`reminder_due` for a stand-up whose reminder delay is `delay` (zero or less: no reminders)."""
    if delay <= timedelta(0):
        return False
    return due_at + delay <= now < closes_at


def is_late(*, closes_at: datetime | None, submitted_at: datetime) -> bool:
    """An answer is late when it arrives after the day's answer window closed."""
    return closes_at is not None and submitted_at >= closes_at


def answer_problems(questions: tuple[Question, ...], answers: Mapping[int, str]) -> dict[int, str]:
    """What is wrong with a set of answers, by question index (empty when they can be recorded)."""
    problems: dict[int, str] = {}
    for index, question in enumerate(questions):
        text = (answers.get(index) or "").strip()
        if question.required and not text:
            problems[index] = "Please answer this question (or use Skip today on the prompt)."
        elif len(text) > ANSWER_MAX_LENGTH:
            problems[index] = f"Keep it under {ANSWER_MAX_LENGTH} characters."
    return problems


def blocker_text(questions: tuple[Question, ...], answers: Mapping[int, str]) -> str | None:
    """The answer to the blocker question, None when there is no blocker question."""
    for index, question in enumerate(questions):
        if question.is_blocker:
            return (answers.get(index) or "").strip()
    return None


_NO_BLOCKER = re.compile(r"^(no(ne|pe|thing)?|n/?a|-+|nope|all good|nothing( blocking)?\.?)\W*$", re.IGNORECASE)


def is_blocking(text: str | None) -> bool:
    """True when a blocker answer says something is blocking (not empty, not "none", "no", "n/a"…)."""
    return bool(text and text.strip() and not _NO_BLOCKER.match(text.strip()))


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(text: str) -> date:
    """A date typed as YYYY-MM-DD; InvalidInput otherwise."""
    text = text.strip()
    if not _DATE.match(text):
        raise InvalidInput(f"`{text[:40]}` is not a date; write it as YYYY-MM-DD, e.g. 2026-12-24.")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"`{text}` is not a real date.") from exc


def parse_away(text: str) -> DateRange:
    """`<from> [<to>]` → the inclusive range; InvalidInput when it cannot be read."""
    parts = text.split()
    if not 1 <= len(parts) <= 2:
        raise InvalidInput("Tell me when: `/standup away 2026-12-22 2027-01-02` (or one day).")
    start = parse_day(parts[0])
    end = parse_day(parts[1]) if len(parts) == 2 else start
    return away_range(start, end)


MAX_AWAY_DAYS = 366


def away_range(start: date, end: date) -> DateRange:
    if end < start:
        raise InvalidInput("The last day away must not be before the first.")
    if (end - start).days >= MAX_AWAY_DAYS:
        raise InvalidInput("Away for more than a year? Please pick a shorter range.")
    return DateRange(start, end)


def parse_time(text: str) -> time:
    """`HH:MM` (what Slack's time picker gives) → a time; InvalidInput otherwise."""
    try:
        hours, minutes = text.strip().split(":")[:2]
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError) as exc:
        raise InvalidInput(f"`{text}` is not a time like 09:30.") from exc


def day_label(day: date) -> str:
    """`Tue 1 Dec`, as the report shows a day."""
    return f"{WEEKDAY_NAMES[day.weekday()]} {day.day} {day.strftime('%b')}"


def days_label(days: Iterable[int]) -> str:
    chosen = sorted(set(days))
    if chosen == [0, 1, 2, 3, 4]:
        return "Mon–Fri"
    return ", ".join(WEEKDAY_NAMES[d] for d in chosen)


# -- a participant's day, for their App Home ---------------------------------------------------------------------------

class TodayState(StrEnum):
    WRITTEN = "written"
    SKIPPED = "skipped"
    AWAY = "away"
    WAITING = "waiting"  # prompted, not answered yet
    UPCOMING = "upcoming"  # the prompt comes later today


@dataclass(frozen=True)
class Today:
    """Where a participant's stand-up stands on their local date."""

    state: TodayState
    day: date
    opens_at: datetime  # when the prompt is due
    closes_at: datetime  # answers after this are late

    def is_late(self, now: datetime) -> bool:
        return now >= self.closes_at


def today_of(config: StandupConfig, *, timezone: str, now: datetime, paused: bool, holidays: Iterable[date],
             away: Iterable[DateRange], prompted: Collection[date], answered: Collection[date],
             skipped: Collection[date]) -> Today | None:
    """A participant's stand-up on their local date at `now`; None when there is none for them today.

    `prompted`, `answered` and `skipped` are the local dates on which they were prompted, answered and skipped.

    What already happened (written, skipped, prompted) always shows, even on a day the schedule would not prompt
    (`/standup now`); otherwise only a scheduled day that is not paused, a holiday or over without a prompt.
    """
    day = now.astimezone(zone(timezone)).date()
    window = answer_window(config, day, timezone)

    def today(state: TodayState) -> Today:
        return Today(state, day, window.opens_at, window.closes_at)

    if day in answered:
        return today(TodayState.WRITTEN)
    if day in skipped:
        return today(TodayState.SKIPPED)
    if day in prompted:
        return today(TodayState.WAITING)
    if paused or not is_working_day(day, weekdays=config.days, holidays=holidays):
        return None
    if any(day in r for r in away):
        return today(TodayState.AWAY)
    if now < window.closes_at:
        return today(TodayState.UPCOMING)
    return None
