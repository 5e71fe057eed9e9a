"""Block Kit for the sprint review: the start modal, the header, one message per story with its verdicts, questions
in the story's thread, the note and question modals, the closing message, invitations, the Home and the summary's
review line — and parsing the modals back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.views.common import (
    VIEW_BLOCK_LIMIT,
    Block,
    actions,
    button,
    context,
    cut,
    divider,
    escape,
    fallback_text,
    fit_message,
    header,
    section,
)
from ceremonies import review as domain
from ceremonies.review import Outcome, ReviewOutcome, StoryResult
from storage.review import Review, ReviewQuestion, StoryState, WaitingNote, WaitingQuestion
from storage.review_cases import Target

# Action, block and callback ids, defined once.
START_MODAL = "review.start"
NOTE_MODAL = "review.note_modal"
QUESTION_MODAL = "review.question_modal"
ACCEPT = "review.accept"
NEEDS_CHANGES = "review.needs_changes"
ASK = "review.ask"
ANSWERED = "review.answered"
FOLLOW_UP = "review.follow_up"
STAKEHOLDERS_BLOCK = "review.stakeholders"
CHANNEL_BLOCK = "review.stakeholder_channel"
WINDOW_BLOCK = "review.window"
NOTE_BLOCK = "review.note"
TEXT_BLOCK = "review.text"
PRESENTER_BLOCK = "review.presenter:"  # + the sprint story's id
VALUE = "value"

HEADER_STORIES = 12  # stories listed by name in the header, per group, before "+N more"
STORY_NOTES = 20  # needs-changes notes shown on a story's message (two blocks each)
LABEL_LIMIT = 150
OUTCOME_ICON = {Outcome.ACCEPTED: ":white_check_mark:", Outcome.NEEDS_CHANGES: ":warning:",
                Outcome.UNDECIDED: ":grey_question:"}
OUTCOME_NAME = {Outcome.ACCEPTED: "Accepted", Outcome.NEEDS_CHANGES: "Needs changes", Outcome.UNDECIDED: "Undecided"}


def usage_lines() -> tuple[str, ...]:
    return ("/review", "/review close", "/review help")


def people(ids: tuple[str, ...] | list[str], limit: int = 30) -> str:
    shown = ", ".join(f"<@{i}>" for i in ids[:limit])
    return shown + (f" +{len(ids) - limit} more" if len(ids) > limit else "")


def label(key: str | None, title: str, limit: int = 300) -> str:
    """A story's key and title, escaped (the title is typed by people)."""
    return cut(escape(" ".join(part for part in (key, title) if part) or "(untitled)"), limit)


def _when(moment: datetime) -> str:
    fallback = moment.strftime("%a %d %b %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


# -- the start modal -------------------------------------------------------------------------------------------------
def _modal(callback_id: str, title: str, submit: str, blocks: list[Block], metadata: dict[str, Any]) -> dict[str, Any]:
    return View(type="modal", callback_id=callback_id, title=PlainTextObject(text=title),
                submit=PlainTextObject(text=submit), close=PlainTextObject(text="Cancel"), blocks=blocks,
                private_metadata=json.dumps(metadata)).to_dict()


def start_modal(found: Target) -> dict[str, Any]:
    """Stakeholders, a presenter per story (its owner or the facilitator to begin with), a note and the window."""
    finished = sum(1 for s in found.stories if s.finished)
    blocks: list[Block] = [
        section(f"Sprint review of *{escape(found.sprint_name)}* in <#{found.channel_id}>: {finished} finished and "
                f"{len(found.stories) - finished} unfinished stories, one message each."),
        InputBlock(block_id=STAKEHOLDERS_BLOCK, label=PlainTextObject(text="Stakeholders to invite"), optional=True,
                   element=UserMultiSelectElement(action_id=VALUE, placeholder=PlainTextObject(text="Pick people")),
                   hint=PlainTextObject(text="Each gets a DM with the link to the review.")).to_dict(),
        InputBlock(block_id=CHANNEL_BLOCK, label=PlainTextObject(text="…and/or their channel"), optional=True,
                   element=ConversationSelectElement(action_id=VALUE, placeholder=PlainTextObject(text="A channel"),
                                                     filter=ConversationFilter(include=["public", "private"],
                                                                               exclude_bot_users=True)),
                   hint=PlainTextObject(text="An invitation is posted there.")).to_dict(),
        InputBlock(block_id=WINDOW_BLOCK, label=PlainTextObject(text="Open for reactions"),
                   element=StaticSelectElement(
                       action_id=VALUE, options=[Option(value=k, text=v) for k, v in domain.WINDOW_NAMES.items()],
                       initial_option=Option(value=domain.DEFAULT_WINDOW,
                                             text=domain.WINDOW_NAMES[domain.DEFAULT_WINDOW]))).to_dict(),
        InputBlock(block_id=NOTE_BLOCK, label=PlainTextObject(text="Note (optional)"), optional=True,
                   element=PlainTextInputElement(action_id=VALUE, multiline=True,
                                                 max_length=domain.REVIEW_NOTE_LIMIT,
                                                 placeholder=PlainTextObject(text="Demo at 15:00 in the big room…"))
                   ).to_dict(),
        divider(),
    ]
    room = VIEW_BLOCK_LIMIT - len(blocks) - 1
    for story in found.stories[:room]:
        state = "finished" if story.finished else "not finished"
        blocks.append(InputBlock(
            block_id=f"{PRESENTER_BLOCK}{story.sprint_story_id}",
            label=PlainTextObject(text=cut(f"{' '.join(p for p in (story.key, story.title) if p) or '(untitled)'}"
                                           f" · {state}", LABEL_LIMIT)),
            element=UserSelectElement(action_id=VALUE, initial_user=story.presenter_id,
                                      placeholder=PlainTextObject(text="Who presents it")),
        ).to_dict())
    if len(found.stories) > room:
        blocks.append(context(f"{len(found.stories) - room} more stories: presented by their owner or you."))
    return _modal(START_MODAL, "Sprint review", "Start review", blocks,
                  {"sprint_id": found.sprint_id, "channel_id": found.channel_id})


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _value(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    found = ((view.get("state") or {}).get("values") or {}).get(block_id, {}).get(VALUE)
    return found if isinstance(found, dict) else {}


@dataclass(frozen=True)
class StartForm:
    sprint_id: int
    channel_id: str
    stakeholder_ids: tuple[str, ...]
    stakeholder_channel_id: str | None
    presenters: dict[int, str]
    note: str
    window: str


def parse_start(view: dict[str, Any]) -> StartForm:
    """The start modal as plain data (ids checked to be Slack ids by the use case)."""
    values = (view.get("state") or {}).get("values") or {}
    presenters = {}
    for block_id in values:
        number = str(block_id).removeprefix(PRESENTER_BLOCK)
        if str(block_id).startswith(PRESENTER_BLOCK) and number.isdigit() and len(number) < 10:
            chosen = _value(view, block_id).get("selected_user")
            if isinstance(chosen, str):
                presenters[int(number)] = chosen
    sprint_id = metadata(view).get("sprint_id")
    users = _value(view, STAKEHOLDERS_BLOCK).get("selected_users") or []
    return StartForm(
        sprint_id=sprint_id if isinstance(sprint_id, int) else 0,
        channel_id=str(metadata(view).get("channel_id") or ""),
        stakeholder_ids=tuple(u for u in users if isinstance(u, str)),
        stakeholder_channel_id=_value(view, CHANNEL_BLOCK).get("selected_conversation") or None,
        presenters=presenters,
        note=str(_value(view, NOTE_BLOCK).get("value") or ""),
        window=str((_value(view, WINDOW_BLOCK).get("selected_option") or {}).get("value") or domain.DEFAULT_WINDOW),
    )


# -- the note and question modals ------------------------------------------------------------------------------------
def text_modal(story: StoryResult, *, story_id: int, question: bool) -> dict[str, Any]:
    """"Needs changes" (the note is required: it can become a follow-up story) or "Question" (for the presenter)."""
    about = section(f"*{label(story.key, story.title)}* · presented by <@{story.presenter_id}>")
    if question:
        field_label, limit, title, submit = "Your question", domain.QUESTION_LIMIT, "Ask a question", "Ask"
        hint = "The presenter gets a DM; the question shows in the story's thread."
    else:
        field_label, limit, title, submit = "What needs to change?", domain.NOTE_LIMIT, "Needs changes", "Send"
        hint = "Required: the facilitator can turn it into a follow-up story for the next sprint."
    text = InputBlock(block_id=TEXT_BLOCK, label=PlainTextObject(text=field_label), hint=PlainTextObject(text=hint),
                      element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=limit)).to_dict()
    return _modal(QUESTION_MODAL if question else NOTE_MODAL, title, submit, [about, text], {"story_id": story_id})


def parse_text(view: dict[str, Any]) -> tuple[str, str]:
    """(the story id as sent, the text typed)."""
    return str(metadata(view).get("story_id") or ""), str(_value(view, TEXT_BLOCK).get("value") or "")


def text_errors(problem: str) -> dict[str, str]:
    return {TEXT_BLOCK: problem}


# -- the review's messages -------------------------------------------------------------------------------------------
def _story_line(story: StoryResult) -> str:
    return f"• {label(story.key, story.title, 200)} — <@{story.presenter_id}>"


def _listed(title: str, lines: list[str]) -> str:
    shown = lines[:HEADER_STORIES]
    more = f"\n+{len(lines) - len(shown)} more" if len(lines) > len(shown) else ""
    return f"*{title} ({len(lines)})*\n" + "\n".join(shown) + more


def header_blocks(review: Review, result: ReviewOutcome, stakeholder_ids: list[str]) -> list[Block]:
    """The review's first message: who runs it, who is invited, and the stories it shows (cut by count)."""
    facts = [f"Facilitated by <@{review.facilitator_id}>"]
    facts.append(f"closed {_when(review.closed_at)}" if review.closed_at else f"open until {_when(review.closes_at)}")
    blocks = [header(f"{review.sprint_name} · sprint review"), section(" · ".join(facts))]
    if review.note:
        blocks.append(section(cut(escape(review.note), 2000)))
    invited = [people(stakeholder_ids)] if stakeholder_ids else []
    if review.stakeholder_channel_id:
        invited.append(f"<#{review.stakeholder_channel_id}>")
    if invited:
        blocks.append(section("*Stakeholders:* " + " and ".join(invited)))
    finished = [_story_line(s) for s in result.stories if s.finished]
    unfinished = [_story_line(s) for s in result.stories if not s.finished]
    if finished:
        blocks.append(section(_listed("Finished", finished)))
    if unfinished:
        blocks.append(section(_listed("Not finished", unfinished)))
    blocks.append(context("Closed: the closing message below lists what came of each story." if review.closed_at
                          else "One message per story follows: *Accepted*, *Needs changes* (with a note) or "
                               "*Question* on each. `/review close` ends the review."))
    return fit_message(blocks)


def header_text(review: Review) -> str:
    return fallback_text(f"Sprint review of {escape(review.sprint_name)}")


def story_blocks(state: StoryState) -> list[Block]:
    """A story's message: what it is, who presents it, its link, the verdicts with who gave them, the notes (each can
    become a follow-up) and, while the review is open, the buttons."""
    story, result, closed = state.story, state.result, state.review.closed_at is not None
    done = ":large_green_circle: finished" if story.finished else ":hourglass: *not finished*"
    link = f" · <{story.link}|open>" if story.link else ""
    blocks = [
        section(f"*{label(story.key, story.title)}* · {story.points:g} pts · {done}\n"
                f"Presented by <@{story.presenter_id}>{link}"),
        context(_verdict_line(result)),
    ]
    notes = [v for v in state.verdicts if v.shows_note]
    for verdict in notes[:STORY_NOTES]:
        text = f"<@{verdict.user_id}> — needs changes: {cut(escape(verdict.note), 2500)}"
        if verdict.follow_up_at is not None:
            blocks.append(section(text))
            blocks.append(context(f":arrow_right: Follow-up for the next sprint by <@{verdict.follow_up_by}>: "
                                  f"{cut(escape(verdict.follow_up_title or ''), 1000)}"))
        else:
            accessory = button("Create follow-up", FOLLOW_UP, str(verdict.id))
            blocks.append(section(text, accessory=accessory))
    if len(notes) > STORY_NOTES:
        blocks.append(context(f"+{len(notes) - STORY_NOTES} more notes"))
    if not closed:
        value = str(story.id)
        blocks.append(actions(button("Accepted", ACCEPT, value, style="primary"),
                              button("Needs changes", NEEDS_CHANGES, value), button("Question", ASK, value)))
    return fit_message(blocks)


def _verdict_line(result: StoryResult) -> str:
    parts = [f"{OUTCOME_ICON[result.outcome]} *{OUTCOME_NAME[result.outcome]}*"]
    if result.accepted_by:
        parts.append(f"accepted by {people(list(result.accepted_by), 15)}")
    if result.needs_changes_by:
        parts.append(f"changes asked by {people(list(result.needs_changes_by), 15)}")
    if result.questions:
        parts.append(f"{result.questions} question{'s' if result.questions != 1 else ''} "
                     f"({result.questions_open} open)")
    return " · ".join(parts)


def story_text(state: StoryState) -> str:
    result = state.result
    return fallback_text(f"{escape(result.label)}: {OUTCOME_NAME[result.outcome].lower()}")


def question_blocks(question: ReviewQuestion, *, presenter_id: str, closed: bool) -> list[Block]:
    """A question in the story's thread; the presenter (or whoever asked) marks it answered."""
    text = f":question: <@{question.asker_id}> asks <@{presenter_id}>:\n{cut(escape(question.text), 2800)}"
    if question.answered_at is not None:
        return [section(text), context(f":white_check_mark: Answered (marked by <@{question.answered_by}>)")]
    if closed:
        return [section(text), context("Still open.")]
    return [section(text, accessory=button("Mark answered", ANSWERED, str(question.id)))]


def question_text(question: ReviewQuestion) -> str:
    return fallback_text(f"Question: {escape(question.text)}")


def asked_text(question: ReviewQuestion, *, story_label: str, channel_id: str) -> str:
    """The presenter's DM about a question on their story."""
    return fallback_text(f":question: <@{question.asker_id}> asks about *{cut(escape(story_label), 300)}* in the "
                         f"sprint review in <#{channel_id}>:\n> {cut(escape(question.text), 2000)}\nAnswer in the "
                         "story's thread, then *Mark answered*.")


def invite_text(review: Review, *, link: str | None, to_channel: bool) -> str:
    """A stakeholder's DM, or the invitation posted in the stakeholders' channel."""
    where = f"<{link}|the review in <#{review.channel_id}>>" if link else f"the review in <#{review.channel_id}>"
    who = "Stakeholders are invited" if to_channel else "You are invited"
    note = f"\n> {cut(escape(review.note), 500)}" if review.note else ""
    return fallback_text(f":clipboard: {who} to the sprint review of *{escape(review.sprint_name)}* by "
                         f"<@{review.facilitator_id}>: {where}. Mark each story *Accepted*, *Needs changes* or ask a "
                         f"*Question* until {_when(review.closes_at)}.{note}")


def closing_blocks(review: Review, result: ReviewOutcome) -> list[Block]:
    """The closing message: accepted, needs changes, questions open, undecided, follow-ups, who took part."""
    blocks = [header(f"{review.sprint_name} · review closed"), section(summary_line(result))]
    for outcome, title in ((Outcome.ACCEPTED, "Accepted"), (Outcome.NEEDS_CHANGES, "Needs changes")):
        lines = [_story_line(s) for s in result.with_outcome(outcome)]
        if lines:
            blocks.append(section(_listed(title, lines)))
    open_questions = [f"{_story_line(s)} · {s.questions_open} open" for s in result.with_open_questions]
    if open_questions:
        blocks.append(section(_listed("Questions still open", open_questions)))
    undecided = [_story_line(s) + ("" if s.finished else " · not finished") for s in result.with_outcome(
        Outcome.UNDECIDED)]
    blocks.append(section(_listed("Undecided", undecided) if undecided else "*Undecided:* none — every story got a "
                                                                            "verdict."))
    took_part = people(list(result.participants)) if result.participants else "nobody reacted"
    blocks.append(context(f"Took part: {took_part}"))
    return fit_message(blocks)


def closing_text(review: Review, result: ReviewOutcome) -> str:
    return fallback_text(f"The sprint review of {escape(review.sprint_name)} closed: {summary_line(result)}")


def summary_line(result: ReviewOutcome) -> str:
    """The review in one line, for the closing message and the sprint summary."""
    return (f"{result.accepted} accepted · {result.needs_changes} need changes · {result.undecided} undecided · "
            f"{result.questions_open} of {result.questions} questions open · {result.follow_ups} follow-up"
            f"{'s' if result.follow_ups != 1 else ''} created · {len(result.participants)} took part")


# -- answers to the person who clicked ---------------------------------------------------------------------------------
def verdict_recorded_text(key: str | None, title: str, verdict: domain.Verdict) -> str:
    said = "accepted" if verdict is domain.Verdict.ACCEPTED else "asked for changes to"
    return f":ballot_box_with_check: You {said} {label(key, title)}."


def asked_ok_text(presenter_id: str) -> str:
    return f":question: Your question is in the story's thread; <@{presenter_id}> got a DM."


def follow_up_text(title: str, *, created: bool) -> str:
    if not created:
        return f"That note already has a follow-up: {cut(escape(title), 300)}."
    return (f":arrow_right: Added to the next sprint's backlog (0 points until estimated): {cut(escape(title), 300)}. "
            "`/sprint start` commits it with the others.")


def not_posted_text(review: Review, *, error: str) -> str:
    """To the facilitator when Slack would not take the review's header in the team channel."""
    return (f":warning: I could not post the sprint review of {escape(review.sprint_name)} in <#{review.channel_id}> "
            f"({escape(error)}). Invite me with `/invite @Cadence` there, then `/review` again.")


def closed_text(name: str) -> str:
    return f":lock: The review of {escape(name)} is closed; the closing message lists what came of each story."


# -- the App Home and the sprint summary -------------------------------------------------------------------------------
HOME_ITEMS = 6


def home_blocks(asked: list[tuple[WaitingQuestion, str | None]], notes: list[tuple[WaitingNote, str | None]]
                ) -> list[Block]:
    """Questions waiting for the person as presenter, and notes waiting for them as facilitator to triage."""
    if not asked and not notes:
        return []
    blocks = [divider(), section("*Sprint review*")]
    for question, link in asked[:HOME_ITEMS]:
        where = f"<{link}|{label(None, question.story_label, 200)}>" if link else label(None, question.story_label, 200)
        blocks.append(section(f":question: <@{question.asker_id}> asks about {where} in <#{question.channel_id}>: "
                              f"{cut(escape(question.text), 300)}"))
    if len(asked) > HOME_ITEMS:
        blocks.append(context(f"…and {len(asked) - HOME_ITEMS} more questions for you."))
    for note, link in notes[:HOME_ITEMS]:
        where = f"<{link}|{label(None, note.story_label, 200)}>" if link else label(None, note.story_label, 200)
        blocks.append(section(f":warning: Follow-up to triage: <@{note.author_id}> asks for changes to {where} in "
                              f"<#{note.channel_id}>: {cut(escape(note.note), 300)}"))
    if len(notes) > HOME_ITEMS:
        blocks.append(context(f"…and {len(notes) - HOME_ITEMS} more notes to triage."))
    return blocks
