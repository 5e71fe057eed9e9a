"""Block Kit for blockers: the card in the team channel, lists, the digest, escalation DMs, prompt questions and the
resolve / flag / settings modals — and parsing those modals back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    NumberInputElement,
    PlainTextInputElement,
    PlainTextObject,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.views.common import (
    MESSAGE_BLOCK_LIMIT,
    Block,
    actions,
    button,
    context,
    cut,
    divider,
    escape,
    fallback_text,
    header,
    section,
)
from ceremonies import blockers as domain
from ceremonies.blockers import Source, TrackerSettings
from storage.blockers import AgedBlocker, Blocker

# Action, block and callback ids, defined once.
RESOLVE = "blocker.resolve"
ASSIGN = "blocker.assign"
HELP = "blocker.help"
PROMPT_RESOLVED = "blocker.prompt_resolved"
PROMPT_STILL_BLOCKED = "blocker.prompt_still_blocked"
FLAG_SHORTCUT = "blocker.flag"
RESOLVE_MODAL = "blocker.resolve_modal"
FLAG_MODAL = "blocker.flag_modal"
SETTINGS_MODAL = "blocker.settings_modal"
CARD_BLOCK = "blocker.card:"  # + blocker id: the actions block of a card, where "Assign owner" lives
NOTE_BLOCK = "blocker.note"
TEXT_BLOCK = "blocker.text"
OWNER_BLOCK = "blocker.owner"
THRESHOLD_BLOCK = "blocker.threshold"
CONTACT_BLOCK = "blocker.contact"
DIGEST_TIME_BLOCK = "blocker.digest_time"
TIMEZONE_BLOCK = "blocker.timezone"
VALUE = "value"

LIST_TEXT_LIMIT = 300
PROMPT_BLOCKER_LIMIT = 8
SOURCE_NAMES = {Source.STANDUP: "stand-up answer", Source.COMMAND: "/blocker", Source.MESSAGE: "message",
                Source.RISK: "risk that occurred"}

def blocker_text(text: str, limit: int = 2900) -> str:
    """User text safe for mrkdwn, keeping the @mentions people typed."""
    return cut(escape(text, mentions=True), limit)


def quoted(text: str, limit: int = 2800) -> str:
    return "\n".join("> " + line for line in blocker_text(text, limit).splitlines() or [" "])


def slack_date(moment: datetime) -> str:
    """A time every reader sees in their own timezone."""
    fallback = moment.strftime("%a %d %b %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _source(blocker: Blocker) -> str:
    name = SOURCE_NAMES.get(Source(blocker.source), blocker.source)
    if blocker.link:
        return f"from a <{blocker.link}|{name}>"
    return f"from {name}"


def _owner(owner_id: str | None) -> str:
    return f"owner <@{owner_id}>" if owner_id else "no owner yet"


# -- the card in the team channel ----------------------------------------------------------------------------------


def card_text(blocker: Blocker) -> str:
    state = "resolved" if not blocker.is_open else "open"
    return fallback_text(f"Blocker #{blocker.id} ({state}) from <@{blocker.reporter_id}>: {blocker_text(blocker.text)}")


def card_blocks(blocker: Blocker, *, time_to_unblock: timedelta | None = None) -> list[Block]:
    """The blocker as posted in the team channel: open with its buttons, or resolved with who did it."""
    if blocker.is_open:
        about = f":construction: *Blocker #{blocker.id}* flagged by <@{blocker.reporter_id}>\n{quoted(blocker.text)}"
        facts = [_owner(blocker.owner_id), f"flagged {slack_date(blocker.created_at)}", _source(blocker)]
        if blocker.escalation_count:
            facts.append(f"escalated {blocker.escalation_count}×")
        owner_select = UserSelectElement(
            action_id=ASSIGN, placeholder=PlainTextObject(text="Assign owner"), initial_user=blocker.owner_id
        ).to_dict()
        return [
            section(about),
            context(" · ".join(facts)),
            actions(
                button("Resolve", RESOLVE, str(blocker.id), style="primary"),
                owner_select,
                button("I can help", HELP, str(blocker.id)),
                block_id=f"{CARD_BLOCK}{blocker.id}",
            ),
        ]
    by = f"<@{blocker.resolved_by}>" if blocker.resolved_by else "someone"
    about = f":white_check_mark: *Blocker #{blocker.id}* resolved by {by}\n{quoted(blocker.text)}"
    facts = [f"flagged by <@{blocker.reporter_id}> {slack_date(blocker.created_at)}", _source(blocker)]
    if time_to_unblock is not None:
        facts.append(f"unblocked in {domain.describe_age(time_to_unblock)}")
    blocks = [section(about), context(" · ".join(facts))]
    if blocker.resolution_note:
        blocks.append(context(f"Note: {blocker_text(blocker.resolution_note, 1900)}"))
    return blocks


# -- lists ------------------------------------------------------------------------------------------------------------


def _list_line(item: AgedBlocker) -> str:
    b = item.blocker
    return (f"*#{b.id}* · open {domain.describe_age(item.age)} · {_owner(b.owner_id)} · by <@{b.reporter_id}>\n"
            f"{blocker_text(b.text, LIST_TEXT_LIMIT)}")


def _list_blocks(items: list[AgedBlocker], title: str, *, room: int) -> list[Block]:
    blocks = [header(title)]
    shown = items[: room - 2]
    blocks.extend(section(_list_line(item)) for item in shown)
    if len(items) > len(shown):
        blocks.append(context(f"…and {len(items) - len(shown)} more, newer than these."))
    return blocks


def list_blocks(items: list[AgedBlocker], *, channel_id: str) -> list[Block]:
    """`/blocker list`: the team's open blockers, oldest first, with working age and owner."""
    if not items:
        return [section(f":sunny: No open blockers in <#{channel_id}>. Flag one with `/blocker <what is blocking you>`.")]
    blocks = _list_blocks(items, f"Open blockers ({len(items)})", room=MESSAGE_BLOCK_LIMIT - 1)
    blocks.append(context("Age counts working time only. Resolve one with `/blocker resolve <number> [note]`."))
    return blocks


def list_text(items: list[AgedBlocker]) -> str:
    return f"{len(items)} open blockers" if items else "No open blockers"


def digest_blocks(items: list[AgedBlocker], *, day_label: str) -> list[Block]:
    """The daily digest of open blockers, oldest first."""
    blocks = _list_blocks(items, f"Open blockers · {day_label} · {len(items)}", room=MESSAGE_BLOCK_LIMIT - 1)
    blocks.append(context("Resolve one with `/blocker resolve <number> [note]`, or use the buttons on its card."))
    return blocks


def digest_text(items: list[AgedBlocker], *, day_label: str) -> str:
    return fallback_text(f"{len(items)} open blockers · {day_label}")


# -- escalation, help offers and prompts ----------------------------------------------------------------------------


def escalation_blocks(item: AgedBlocker, *, level: int) -> list[Block]:
    b = item.blocker
    step = "" if level == 1 else f" (escalation {level})"
    about = (f":rotating_light: *Blocker #{b.id}* in <#{b.channel_id}> has been open for "
             f"*{domain.describe_age(item.age)}*{step}.\n{quoted(b.text)}")
    facts = [f"flagged by <@{b.reporter_id}> {slack_date(b.created_at)}", _owner(b.owner_id), _source(b)]
    return [section(about), context(" · ".join(facts)), actions(button("Resolve", RESOLVE, str(b.id), style="primary"))]


def escalation_text(item: AgedBlocker) -> str:
    return fallback_text(f"Blocker #{item.blocker.id} has been open for {domain.describe_age(item.age)}")


def help_offer_text(blocker: Blocker, *, helper_id: str) -> str:
    return fallback_text(f":raised_hand: <@{helper_id}> offered to help with your blocker #{blocker.id}: "
                         f"{blocker_text(blocker.text, 1000)}")


def prompt_blocks(items: list[Blocker], *, channel_id: str) -> list[Block]:
    """The stand-up prompt's questions about the reporter's open blockers."""
    if not items:
        return []
    blocks = [divider(), section(f"*Your open blockers in <#{channel_id}>* — are you still blocked?")]
    for b in items[:PROMPT_BLOCKER_LIMIT]:
        blocks.append(section(f"*#{b.id}* {blocker_text(b.text, 500)}"))
        blocks.append(actions(
            button("Resolved", PROMPT_RESOLVED, str(b.id), style="primary"),
            button("Still blocked", PROMPT_STILL_BLOCKED, str(b.id)),
            block_id=f"blocker.prompt:{b.id}",
        ))
    if len(items) > PROMPT_BLOCKER_LIMIT:
        blocks.append(context(f"…and {len(items) - PROMPT_BLOCKER_LIMIT} more: `/blocker list` shows them all."))
    return blocks


# -- the App Home ---------------------------------------------------------------------------------------------------

HOME_BLOCKERS = 6
HOME_TEXT_LIMIT = 300


def home_blocks(items: list[AgedBlocker], *, user_id: str) -> list[Block]:
    """The open blockers someone reported or owns, oldest first with their working age, each with Resolve."""
    if not items:
        return []
    blocks = [divider(), section(f"*Your open blockers* ({len(items)})")]
    for item in items[:HOME_BLOCKERS]:
        b = item.blocker
        role = "you reported it" if b.reporter_id == user_id else f"reported by <@{b.reporter_id}>"
        owner = "you own it" if b.owner_id == user_id else _owner(b.owner_id)
        about = (f":construction: *#{b.id}* in <#{b.channel_id}> · open {domain.describe_age(item.age)} · {role} · "
                 f"{owner}\n{blocker_text(b.text, HOME_TEXT_LIMIT)}")
        blocks.append(section(about, accessory=button("Resolve", RESOLVE, str(b.id), style="primary")))
    if len(items) > HOME_BLOCKERS:
        blocks.append(context(f"…and {len(items) - HOME_BLOCKERS} more, newer than these: `/blocker list` in their "
                              "channels shows them."))
    return blocks


# -- modals ---------------------------------------------------------------------------------------------------------


def _modal(callback_id: str, title: str, submit: str, blocks: list[Block], metadata: dict[str, Any]) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        blocks=blocks,
        private_metadata=json.dumps(metadata),
    ).to_dict()


def resolve_modal(blocker: Blocker) -> dict[str, Any]:
    """Resolve a blocker, with an optional note."""
    note = InputBlock(
        block_id=NOTE_BLOCK,
        label=PlainTextObject(text="How was it resolved? (optional)"),
        element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=domain.NOTE_LIMIT),
        optional=True,
    ).to_dict()
    about = section(f"*Blocker #{blocker.id}* flagged by <@{blocker.reporter_id}>\n{quoted(blocker.text, 2000)}")
    return _modal(RESOLVE_MODAL, "Resolve blocker", "Resolve", [about, note], {"blocker_id": blocker.id})


def flag_modal(*, text: str, channel_id: str, message_ts: str) -> dict[str, Any]:
    """Flag a message as a blocker: its text, editable, and an optional owner."""
    text_input = InputBlock(
        block_id=TEXT_BLOCK,
        label=PlainTextObject(text="What is blocked?"),
        element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=domain.TEXT_LIMIT,
                                      initial_value=text[: domain.TEXT_LIMIT] or None),
    ).to_dict()
    owner = InputBlock(
        block_id=OWNER_BLOCK,
        label=PlainTextObject(text="Who can unblock it? (optional)"),
        element=UserSelectElement(action_id=VALUE, placeholder=PlainTextObject(text="Pick a person")),
        optional=True,
    ).to_dict()
    metadata = {"channel_id": channel_id, "message_ts": message_ts}
    return _modal(FLAG_MODAL, "Flag as blocker", "Flag", [text_input, owner], metadata)


def settings_modal(settings: TrackerSettings, *, channel_id: str, response_url: str | None = None) -> dict[str, Any]:
    """A team channel's escalation threshold and contact, and the time of its daily digest (`response_url`: the
    command's, for the confirmation after saving)."""
    blocks = [
        section(f"Blocker settings for <#{channel_id}>. Age counts working days only (no weekends or holidays)."),
        InputBlock(
            block_id=THRESHOLD_BLOCK,
            label=PlainTextObject(text="Escalate after (working days)"),
            element=NumberInputElement(action_id=VALUE, is_decimal_allowed=False,
                                       initial_value=str(settings.threshold_days), min_value="1",
                                       max_value=str(domain.MAX_THRESHOLD_DAYS)),
        ).to_dict(),
        InputBlock(
            block_id=CONTACT_BLOCK,
            label=PlainTextObject(text="Escalation contact (e.g. the TPM or team lead)"),
            element=UserSelectElement(action_id=VALUE, placeholder=PlainTextObject(text="Pick a person"),
                                      initial_user=settings.contact_id),
            optional=True,
            hint=PlainTextObject(text="Without a contact, escalations go to the blocker's owner, if it has one."),
        ).to_dict(),
        InputBlock(
            block_id=DIGEST_TIME_BLOCK,
            label=PlainTextObject(text="Daily digest at"),
            element=TimePickerElement(action_id=VALUE, initial_time=settings.digest_time.strftime("%H:%M")),
        ).to_dict(),
        InputBlock(
            block_id=TIMEZONE_BLOCK,
            label=PlainTextObject(text="Timezone of the digest and of working days"),
            element=PlainTextInputElement(action_id=VALUE, initial_value=settings.timezone,
                                          max_length=domain.TIMEZONE_LIMIT),
        ).to_dict(),
    ]
    metadata = {"channel_id": channel_id, **({"response_url": response_url} if response_url else {})}
    return _modal(SETTINGS_MODAL, "Blocker settings", "Save", blocks, metadata)


def settings_refusal_modal(text: str) -> dict[str, Any]:
    """What the settings modal turns into when the person may not change them."""
    return {"type": "modal", "title": {"type": "plain_text", "text": "Blocker settings"},
            "close": {"type": "plain_text", "text": "Close"}, "blocks": [section(text)]}


# -- parsing modals back --------------------------------------------------------------------------------------------


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    raw = view.get("private_metadata") or "{}"
    data = json.loads(raw)
    return data if isinstance(data, dict) else {}


def _state(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return ((view.get("state") or {}).get("values") or {}).get(block_id, {}).get(VALUE) or {}


def parse_note(view: dict[str, Any]) -> str:
    return _state(view, NOTE_BLOCK).get("value") or ""


@dataclass(frozen=True)
class FlagForm:
    text: str
    owner_id: str | None
    channel_id: str
    message_ts: str


def parse_flag(view: dict[str, Any]) -> FlagForm:
    data = metadata(view)
    return FlagForm(
        text=_state(view, TEXT_BLOCK).get("value") or "",
        owner_id=_state(view, OWNER_BLOCK).get("selected_user") or None,
        channel_id=str(data.get("channel_id") or ""),
        message_ts=str(data.get("message_ts") or ""),
    )


@dataclass(frozen=True)
class SettingsForm:
    channel_id: str
    threshold: str
    contact_id: str | None
    digest_time: str | None
    timezone: str
    response_url: str | None = None


def parse_settings(view: dict[str, Any]) -> SettingsForm:
    return SettingsForm(
        response_url=str(metadata(view).get("response_url") or "") or None,
        channel_id=str(metadata(view).get("channel_id") or ""),
        threshold=str(_state(view, THRESHOLD_BLOCK).get("value") or ""),
        contact_id=_state(view, CONTACT_BLOCK).get("selected_user") or None,
        digest_time=_state(view, DIGEST_TIME_BLOCK).get("selected_time") or None,
        timezone=_state(view, TIMEZONE_BLOCK).get("value") or "",
    )


SETTINGS_FIELDS = {"threshold": THRESHOLD_BLOCK, "digest_time": DIGEST_TIME_BLOCK, "timezone": TIMEZONE_BLOCK}


def settings_errors(problems: dict[str, str]) -> dict[str, str]:
    """Inline modal errors by block id."""
    return {SETTINGS_FIELDS[name]: message for name, message in problems.items()}


def settings_saved_text(settings: TrackerSettings, *, channel_id: str) -> str:
    contact = f"<@{settings.contact_id}>" if settings.contact_id else "the blocker's owner (no contact set)"
    days = "working day" if settings.threshold_days == 1 else "working days"
    return (f":gear: Blocker settings for <#{channel_id}> saved: escalate to {contact} every "
            f"{settings.threshold_days} {days}; digest at {settings.digest_time:%H:%M} {settings.timezone}.")
