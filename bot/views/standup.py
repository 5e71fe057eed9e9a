"""Block Kit for stand-ups: the setup modal, prompts, the answer modal, the report, and parsing them back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.views.common import (
    SECTION_TEXT_LIMIT,
    Block,
    actions,
    button,
    context,
    cut,
    divider,
    escape,
    fallback_text,
    fit_list,
    fit_message,
    section,
)
from ceremonies.errors import InvalidInput
from ceremonies.numbers import OUT_OF_DATE, button_ids
from ceremonies.schedule import DateRange
from ceremonies.standup import (
    ANSWER_MAX_LENGTH,
    DEFAULT_REMINDER,
    MAX_QUESTIONS,
    QUESTION_MAX_LENGTH,
    REMINDER_CHOICES,
    WEEKDAY_NAMES,
    Question,
    ReportStyle,
    StandupConfig,
    TimezoneMode,
    Today,
    TodayState,
    day_label,
    days_label,
    is_blocking,
    parse_time,
)

# Action, callback and block ids, defined once.
WRITE = "standup.write"
SKIP = "standup.skip"
AWAY = "standup.away"
EDIT = "standup.edit"
DELETE_CONFIRM = "standup.delete_confirm"
DELETE_CANCEL = "standup.delete_cancel"
SETUP_VIEW = "standup.setup"
ANSWER_VIEW = "standup.answer"
AWAY_VIEW = "standup.away_dates"
INPUT = "standup.input"  # the one action id of every input element; blocks tell them apart

B_REPORT_CHANNEL = "report_channel"
B_PARTICIPANTS = "participants"
B_USERGROUP = "usergroup"
B_BLOCKER = "blocker"
B_DAYS = "days"
B_TIME = "time"
B_TZ_MODE = "tz_mode"
B_TEAM_TZ = "team_timezone"
B_REMINDER = "reminder"
B_WINDOW_END = "window_end"
B_STYLE = "style"
B_AWAY_FROM = "away_from"
B_AWAY_TO = "away_to"
NO_BLOCKER = "none"


def question_block(index: int) -> str:
    return f"q{index}"


def answer_block(index: int) -> str:
    return f"a{index}"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(text[:75]), "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False,
           hint: str | None = None) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": _plain(label[:2000]),
                    "element": {**element, "action_id": INPUT}, "optional": optional}
    if hint:
        block["hint"] = _plain(hint[:2000])
    return block


def _modal(callback_id: str, title: str, blocks: list[Block], metadata: dict[str, Any], submit: str) -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback_id, "title": _plain(title[:24]), "submit": _plain(submit),
            "close": _plain("Cancel"), "blocks": blocks, "private_metadata": json.dumps(metadata)}


def _hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def _reminder_label(delay: timedelta) -> str:
    if delay <= timedelta(0):
        return "No reminder"
    minutes = int(delay.total_seconds() // 60)
    return f"After {minutes} minutes" if minutes < 60 else f"After {minutes // 60} h" + (
        f" {minutes % 60} min" if minutes % 60 else "")


# -- setup ----------------------------------------------------------------------------------------------------------

SHOWN_PARTICIPANTS = 100  # a multi_users_select takes at most 100 initial_users


def setup_modal(config: StandupConfig, *, channel_id: str, usergroups: Mapping[str, str],
                response_url: str | None = None) -> dict[str, Any]:
    """The `/standup setup` modal, filled with `config` (the current or the default one).

    Slack pre-fills at most 100 participants: the others are named by count and kept on saving (the metadata lists
    who was shown, so only someone removed from the field leaves). `response_url` is the command's, for the
    confirmation after saving (it needs no membership in the channel)."""
    shown = list(config.participants)[:SHOWN_PARTICIPANTS]
    hidden = len(config.participants) - len(shown)
    blocks: list[Block] = [
        _input(B_REPORT_CHANNEL, "Report channel",
               {"type": "conversations_select", "initial_conversation": config.report_channel_id,
                "filter": {"include": ["public", "private"], "exclude_bot_users": True}},
               hint="Where the daily report goes. Cadence must be a member (/invite @Cadence)."),
        _input(B_PARTICIPANTS, "Participants",
               {"type": "multi_users_select", **({"initial_users": shown} if shown else {})}, optional=True,
               hint=(f"Showing {len(shown)} of {len(config.participants)}: the other {hidden} stay on the stand-up "
                     "(Slack shows at most 100 here)." if hidden else None)),
    ]
    if usergroups:
        options = [_option(name, gid) for gid, name in list(usergroups.items())[:100]]
        element: dict[str, Any] = {"type": "static_select", "options": options}
        if config.usergroup_id in usergroups:
            element["initial_option"] = _option(usergroups[config.usergroup_id], config.usergroup_id)
        blocks.append(_input(B_USERGROUP, "…or everyone in a user group", element, optional=True))
    for index in range(MAX_QUESTIONS):
        element = {"type": "plain_text_input", "max_length": QUESTION_MAX_LENGTH}
        if index < len(config.questions):
            element["initial_value"] = config.questions[index].text
        blocks.append(_input(question_block(index), f"Question {index + 1}", element, optional=True))
    blocker_options = [_option("No blocker question", NO_BLOCKER)] + [
        _option(f"Question {i + 1}", str(i)) for i in range(MAX_QUESTIONS)]
    blocker = config.blocker_index
    blocks.append(_input(B_BLOCKER, "The blocker question", {
        "type": "static_select", "options": blocker_options,
        "initial_option": blocker_options[0 if blocker is None else blocker + 1]},
        hint="Its answers are highlighted in the report and followed up by the blocker tracker."))
    day_options = [_option(name, str(i)) for i, name in enumerate(WEEKDAY_NAMES)]
    blocks.append(_input(B_DAYS, "Days", {
        "type": "checkboxes", "options": day_options,
        "initial_options": [day_options[d] for d in sorted(config.days)]}))
    blocks.append(_input(B_TIME, "Local time of the prompt", {"type": "timepicker",
                                                              "initial_time": _hhmm(config.local_time)}))
    tz_options = [_option("Each participant's own Slack timezone", TimezoneMode.PERSON.value),
                  _option("One team timezone (below)", TimezoneMode.TEAM.value)]
    blocks.append(_input(B_TZ_MODE, "Timezone", {
        "type": "radio_buttons", "options": tz_options,
        "initial_option": tz_options[0 if config.timezone_mode is TimezoneMode.PERSON else 1]}))
    blocks.append(_input(B_TEAM_TZ, "Team timezone", {"type": "plain_text_input", "max_length": 64,
                                                      "initial_value": config.team_timezone},
                         optional=True, hint="An IANA name such as Europe/Berlin; used with one team timezone."))
    reminder_options = [_option(_reminder_label(d), str(int(d.total_seconds() // 60))) for d in REMINDER_CHOICES]
    current = next((o for o, d in zip(reminder_options, REMINDER_CHOICES, strict=True)
                    if d == config.reminder_delay), reminder_options[REMINDER_CHOICES.index(DEFAULT_REMINDER)])
    blocks.append(_input(B_REMINDER, "Reminder to those who have not answered", {
        "type": "static_select", "options": reminder_options, "initial_option": current}))
    blocks.append(_input(B_WINDOW_END, "Answers are on time until (local)", {
        "type": "timepicker", "initial_time": _hhmm(config.window_end)}))
    style_options = [_option("One thread a day", ReportStyle.THREAD.value),
                     _option("One message per answer", ReportStyle.PER_ANSWER.value)]
    blocks.append(_input(B_STYLE, "Report style", {
        "type": "radio_buttons", "options": style_options,
        "initial_option": style_options[0 if config.report_style is ReportStyle.THREAD else 1]}))
    metadata: dict[str, Any] = {"channel_id": channel_id}
    if hidden:
        metadata["shown"] = shown
    if response_url:
        metadata["response_url"] = response_url
    return _modal(SETUP_VIEW, "Stand-up setup", blocks, metadata, "Save")


@dataclass(frozen=True)
class SetupForm:
    """What the setup modal's fields say, before participants from a user group are added."""

    channel_id: str
    report_channel_id: str
    users: tuple[str, ...]
    usergroup_id: str | None
    questions: tuple[Question, ...]
    days: frozenset[int]
    local_time: time
    timezone_mode: TimezoneMode
    team_timezone: str
    reminder_delay: timedelta
    window_end: time
    report_style: ReportStyle
    problems: dict[str, str]
    shown: tuple[str, ...] | None = None  # the participants the modal pre-filled, when it could not show them all
    response_url: str | None = None

    def kept(self, stored: Iterable[str]) -> list[str]:
        """The stored participants the modal could not show: they stay."""
        if self.shown is None:
            return []
        shown = set(self.shown)
        return [user for user in stored if user not in shown]

    def config(self, participants: Iterable[str]) -> StandupConfig:
        return StandupConfig(
            channel_id=self.channel_id, report_channel_id=self.report_channel_id,
            participants=tuple(dict.fromkeys(participants)), questions=self.questions,
            usergroup_id=self.usergroup_id, days=self.days, local_time=self.local_time,
            timezone_mode=self.timezone_mode, team_timezone=self.team_timezone,
            reminder_delay=self.reminder_delay, window_end=self.window_end, report_style=self.report_style)


def _value(values: Mapping[str, Any], block_id: str) -> dict[str, Any]:
    return (values.get(block_id) or {}).get(INPUT) or {}


def _selected(values: Mapping[str, Any], block_id: str) -> str | None:
    option = _value(values, block_id).get("selected_option")
    return option.get("value") if option else None


def parse_setup(view: Mapping[str, Any]) -> SetupForm:
    """The setup modal's state as plain data; problems found while reading it are in `problems`."""
    values = view["state"]["values"]
    metadata = json.loads(view.get("private_metadata") or "{}")
    problems: dict[str, str] = {}
    texts = [(_value(values, question_block(i)).get("value") or "").strip() for i in range(MAX_QUESTIONS)]
    blocker = _selected(values, B_BLOCKER) or NO_BLOCKER
    blocker_index = None if blocker == NO_BLOCKER else int(blocker)
    if blocker_index is not None and not texts[blocker_index]:
        problems[B_BLOCKER] = f"Question {blocker_index + 1} is empty; pick a question that has text."
    questions = tuple(Question(text, is_blocker=i == blocker_index, required=i != blocker_index)
                      for i, text in enumerate(texts) if text)

    def clock(block_id: str, fallback: time) -> time:
        raw = _value(values, block_id).get("selected_time")
        if not raw:
            problems[block_id] = "Pick a time."
            return fallback
        return parse_time(raw)

    reminder = _selected(values, B_REMINDER)
    return SetupForm(
        channel_id=metadata.get("channel_id", ""),
        report_channel_id=_value(values, B_REPORT_CHANNEL).get("selected_conversation") or "",
        users=tuple(_value(values, B_PARTICIPANTS).get("selected_users") or ()),
        usergroup_id=_selected(values, B_USERGROUP),
        questions=questions,
        days=frozenset(int(o["value"]) for o in _value(values, B_DAYS).get("selected_options") or ()),
        local_time=clock(B_TIME, time(9, 30)),
        timezone_mode=TimezoneMode(_selected(values, B_TZ_MODE) or TimezoneMode.PERSON.value),
        team_timezone=(_value(values, B_TEAM_TZ).get("value") or "UTC").strip(),
        reminder_delay=timedelta(minutes=int(reminder)) if reminder else DEFAULT_REMINDER,
        window_end=clock(B_WINDOW_END, time(17, 0)),
        report_style=ReportStyle(_selected(values, B_STYLE) or ReportStyle.THREAD.value),
        problems=problems,
        shown=tuple(str(u) for u in metadata["shown"]) if isinstance(metadata.get("shown"), list) else None,
        response_url=str(metadata.get("response_url") or "") or None,
    )


SETUP_FIELDS = {
    "participants": B_PARTICIPANTS, "questions": question_block(0), "blocker": B_BLOCKER, "days": B_DAYS,
    "window_end": B_WINDOW_END, "team_timezone": B_TEAM_TZ, "reminder": B_REMINDER, "report_channel": B_REPORT_CHANNEL,
}


def setup_errors(problems: Mapping[str, str]) -> dict[str, str]:
    """Domain problems (by field) as the modal's inline errors (by block id)."""
    return {SETUP_FIELDS.get(name, name): message for name, message in problems.items()}


def refusal_modal(text: str) -> dict[str, Any]:
    """What the setup modal turns into when the person may not change this stand-up."""
    return {"type": "modal", "title": _plain("Stand-up setup"), "close": _plain("Close"), "blocks": [section(text)]}


def not_in_channel_error(channel_id: str) -> str:
    return (f"Cadence is not in <#{channel_id}> yet, so it can't post the report there. "
            "Type /invite @Cadence in that channel, then save again.")


# -- prompt and reminder --------------------------------------------------------------------------------------------

def _day_value(standup_id: int, day: date) -> str:
    return f"{standup_id}:{day.isoformat()}"


def parse_day_value(value: str) -> tuple[int, date]:
    standup_id, _, day = value.partition(":")
    try:
        return button_ids(standup_id, 1)[0], date.fromisoformat(day)
    except ValueError:
        raise InvalidInput(OUT_OF_DATE) from None


def parse_id_value(value: str) -> int:
    """The stand-up or answer a button is for."""
    return button_ids(value, 1)[0]


def prompt_message(*, standup_id: int, channel_id: str, day: date, previous_today: str | None,
                   extra: list[Block]) -> tuple[str, list[Block]]:
    """The daily prompt DM: greeting, yesterday's plan for reference, the three buttons, other ceremonies' blocks."""
    text = f"Hi! Time for the <#{channel_id}> stand-up ({day_label(day)})."
    blocks = [section(text)]
    if previous_today:
        blocks.append(context(f"Last time you planned: {escape(cut(previous_today, 1800))}"))
    value = _day_value(standup_id, day)
    blocks.append(actions(button("Write stand-up", WRITE, value, style="primary"), button("Skip today", SKIP, value),
                          button("I'm away…", AWAY, value), block_id="standup.prompt"))
    blocks.extend(extra)
    return text, fit_message(blocks)


def reminder_message(*, standup_id: int, channel_id: str, day: date) -> tuple[str, list[Block]]:
    text = f"A reminder: the <#{channel_id}> stand-up for {day_label(day)} is still waiting for you."
    value = _day_value(standup_id, day)
    return text, [section(text), actions(button("Write stand-up", WRITE, value, style="primary"),
                                         button("Skip today", SKIP, value), block_id="standup.reminder")]


def skipped_message(day: date) -> tuple[str, list[Block]]:
    text = f"Skipped the stand-up for {day_label(day)}. See you next time!"
    return text, [section(text)]


def away_recorded_message(away: DateRange) -> str:
    if away.start == away.end:
        return f"Got it: you're away on {day_label(away.start)}. No stand-up prompts that day."
    return f"Got it: you're away from {day_label(away.start)} to {day_label(away.end)}. No stand-up prompts then."


def gone_message(*, user_id: str, channel_id: str) -> str:
    return (f"<@{user_id}> has left the workspace or was deactivated, so they get no more <#{channel_id}> stand-up "
            "prompts. Run /standup setup in that channel to update the participants.")


# -- answer modal ---------------------------------------------------------------------------------------------------

def answer_modal(*, standup_id: int, day: date, questions: tuple[Question, ...],
                 previous: Mapping[int, str] | None = None) -> dict[str, Any]:
    blocks: list[Block] = []
    for index, question in enumerate(questions):
        element: dict[str, Any] = {"type": "plain_text_input", "multiline": True, "max_length": ANSWER_MAX_LENGTH}
        if previous and previous.get(index):
            element["initial_value"] = previous[index]
        blocks.append(_input(answer_block(index), question.text[:2000], element, optional=not question.required))
    title = "Edit stand-up" if previous else "Stand-up"
    return _modal(ANSWER_VIEW, title, blocks, {"standup_id": standup_id, "day": day.isoformat()}, "Send")


def parse_answer(view: Mapping[str, Any]) -> tuple[int, date, dict[int, str]]:
    """(stand-up id, local date, answers by question index) from a submitted answer modal."""
    metadata = json.loads(view.get("private_metadata") or "{}")
    values = view["state"]["values"]
    answers: dict[int, str] = {}
    for block_id in values:
        if block_id.startswith("a") and block_id[1:].isdigit():
            answers[int(block_id[1:])] = _value(values, block_id).get("value") or ""
    return int(metadata["standup_id"]), date.fromisoformat(metadata["day"]), answers


def answer_errors(problems: Mapping[int, str]) -> dict[str, str]:
    return {answer_block(index): message for index, message in problems.items()}


def away_modal(*, standup_id: int, day: date) -> dict[str, Any]:
    blocks = [
        _input(B_AWAY_FROM, "First day away", {"type": "datepicker", "initial_date": day.isoformat()}),
        _input(B_AWAY_TO, "Last day away", {"type": "datepicker", "initial_date": day.isoformat()}),
    ]
    return _modal(AWAY_VIEW, "I'm away", blocks, {"standup_id": standup_id}, "Save")


def parse_away_modal(view: Mapping[str, Any]) -> tuple[date | None, date | None]:
    values = view["state"]["values"]
    start = _value(values, B_AWAY_FROM).get("selected_date")
    end = _value(values, B_AWAY_TO).get("selected_date")
    return (date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None)


def confirmation_message(*, answer_id: int, channel_id: str, day: date, is_edit: bool, late: bool,
                         permalink: str | None) -> tuple[str, list[Block]]:
    verb = "updated" if is_edit else "posted"
    text = f"Thanks! Your <#{channel_id}> stand-up for {day_label(day)} is {verb}" + (" (late)." if late else ".")
    if permalink:
        text += f" <{permalink}|See it in the report>."
    return text, [section(text), actions(button("Edit my answer", EDIT, str(answer_id)), block_id="standup.confirm")]


# -- the report -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerView:
    user_id: str
    name: str
    items: tuple[tuple[Question, str], ...]
    late: bool
    edited: bool


def answer_report(answer: AnswerView, *, day: date, standalone: bool) -> tuple[str, list[Block]]:
    """One person's answers as a report message; the blocker answer is highlighted when it says something."""
    title = f"*{escape(answer.name)}*" + (f" · {day_label(day)}" if standalone else "")
    marks = [m for m, on in (("late", answer.late), ("edited", answer.edited)) if on]
    blocks = [section(title + (f"  _({', '.join(marks)})_" if marks else ""))]
    for question, text in answer.items:
        body = escape(text) if text else "_(no answer)_"
        if question.is_blocker and is_blocking(text):
            blocks.append(section(f":rotating_light: *{escape(question.text)}*\n> " + cut(body, SECTION_TEXT_LIMIT - 300)
                                  .replace("\n", "\n> ")))
        else:
            blocks.append(section(f"*{escape(question.text)}*\n" + cut(body, SECTION_TEXT_LIMIT - 350)))
    text = f"{escape(answer.name)}'s stand-up" + (" (late)" if answer.late else "")
    return text, fit_message(blocks)


def _mentions(user_ids: Iterable[str], *, limit: int = 600, prefix: str = "") -> str:
    """`prefix` and the people as mentions, cut by count ("+N more") to `limit` characters; "" for nobody."""
    mentions = [f"<@{u}>" for u in user_ids]
    return fit_list(mentions, prefix=prefix, limit=limit) if mentions else ""


def parent_message(*, day: date, answered: int, expected: int, closed: bool, missing: Iterable[str] = (),
                   away: Iterable[str] = (), skipped: Iterable[str] = ()) -> tuple[str, list[Block]]:
    """The day's report parent: "Stand-up · Tue 1 Dec · 4/6 answered", and at close who didn't answer/was away."""
    text = f"Stand-up · {day_label(day)} · {answered}/{expected} answered"
    blocks = [section(f"*{text}*")]
    details = []
    if closed and (missing := list(missing)):
        details.append(_mentions(missing, prefix="Did not answer: "))
    if skipped := list(skipped):
        details.append(_mentions(skipped, prefix="Skipped: "))
    if away := list(away):
        details.append(_mentions(away, prefix="Away: "))
    if details:  # three lists of at most 600 characters each: the context's 2,000 hold them whole
        blocks.append(context(" · ".join(details)))
    blocks.append(context("Answers are in the thread." if not closed else "The answer window is closed; late "
                          "answers are still added."))
    return text, blocks


# -- ephemeral answers ----------------------------------------------------------------------------------------------

def status_blocks(config: StandupConfig, *, paused: bool, day: date | None, answered: list[str], pending: list[str],
                  away: list[str], skipped: list[str]) -> tuple[str, list[Block]]:
    tz = "each person's own timezone" if config.timezone_mode is TimezoneMode.PERSON else config.team_timezone
    lines = [
        f"*Stand-up of <#{config.channel_id}>*" + (" — *paused*" if paused else ""),
        f"{days_label(config.days)} at {_hhmm(config.local_time)} ({tz}); on time until {_hhmm(config.window_end)}; "
        f"reminder: {_reminder_label(config.reminder_delay).lower()}; report in <#{config.report_channel_id}> "
        f"({'one thread a day' if config.report_style is ReportStyle.THREAD else 'one message per answer'}).",
        _mentions(config.participants, prefix="Participants: ", limit=1500) or "Participants: nobody",
        "Questions: " + " · ".join(f"{escape(q.text)}{' (blocker)' if q.is_blocker else ''}" for q in config.questions),
    ]
    blocks = [section(line) for line in lines]
    if day is not None:  # each list cut by count to share one section's room
        lists = [f"*{day_label(day)}*", _mentions(answered, prefix="answered ", limit=650) or "answered —",
                 _mentions(pending, prefix="pending ", limit=650) or "pending —"]
        lists += [_mentions(away, prefix="away ", limit=650)] if away else []
        lists += [_mentions(skipped, prefix="skipped ", limit=650)] if skipped else []
        blocks.append(section(lists[0] + ": " + "; ".join(lists[1:])))
    summary = f"Stand-up of <#{config.channel_id}>" + (" (paused)" if paused else "")
    if day is not None:
        summary += f" · {day_label(day)}: {len(answered)} answered, {len(pending)} pending"
    return fallback_text(summary), blocks


def delete_confirmation(standup_id: int, channel_id: str) -> tuple[str, list[Block]]:
    text = f"Delete the <#{channel_id}> stand-up and everything it recorded? This cannot be undone."
    return text, [section(text), actions(button("Delete it", DELETE_CONFIRM, str(standup_id), style="danger"),
                                         button("Keep it", DELETE_CANCEL, str(standup_id)))]


# -- the App Home ---------------------------------------------------------------------------------------------------

HOME_STANDUPS = 6


@dataclass(frozen=True)
class HomeStandup:
    """One of a participant's stand-ups today, as their Home shows it."""

    standup_id: int
    channel_id: str
    today: Today
    late: bool = False  # written late, or (still waiting) only a late answer is possible now
    answer_id: int | None = None
    permalink: str | None = None


def _clock(moment: datetime) -> str:
    """A time each reader sees in their own timezone."""
    return f"<!date^{int(moment.timestamp())}^{{time}}|{moment:%H:%M} UTC>"


def _home_line(item: HomeStandup) -> str:
    where = f"<#{item.channel_id}> · {day_label(item.today.day)}"
    state = item.today.state
    if state is TodayState.WRITTEN:
        link = f" · <{item.permalink}|see it in the report>" if item.permalink else ""
        return f":white_check_mark: {where} · written{' (late)' if item.late else ''}{link}"
    if state is TodayState.SKIPPED:
        return f":fast_forward: {where} · skipped"
    if state is TodayState.AWAY:
        return f":palm_tree: {where} · you're away today"
    if state is TodayState.UPCOMING:
        return f":clock9: {where} · your prompt comes at {_clock(item.today.opens_at)}"
    late = " (answers now count as late)" if item.late else f" · on time until {_clock(item.today.closes_at)}"
    return f":pencil2: {where} · *waiting for you*{late}"


def home_blocks(items: list[HomeStandup]) -> list[Block]:
    """A participant's stand-ups today, with Write stand-up / Skip today on those waiting for them."""
    if not items:
        return []
    blocks = [divider(), section("*Today's stand-up*")]
    for item in items[:HOME_STANDUPS]:
        if item.today.state is TodayState.WRITTEN and item.answer_id is not None:
            blocks.append(section(_home_line(item), accessory=button("Edit", EDIT, str(item.answer_id))))
            continue
        blocks.append(section(_home_line(item)))
        if item.today.state is TodayState.WAITING:
            value = _day_value(item.standup_id, item.today.day)
            blocks.append(actions(button("Write stand-up", WRITE, value, style="primary"),
                                  button("Skip today", SKIP, value), block_id=f"standup.home:{item.standup_id}"))
    if len(items) > HOME_STANDUPS:
        blocks.append(context(f"…and {len(items) - HOME_STANDUPS} more stand-ups today."))
    return blocks
