"""Blockers: `/blocker`, the "Flag as blocker" message shortcut, the card buttons, the stand-up hooks, and the
escalation and digest jobs."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_bolt import Ack, App, BoltContext, Respond
from sqlalchemy.orm import Session

from bot import hooks
from bot.listeners import roles
from bot.listeners.commands import SlashCommand, first_word
from bot.listeners.home import refresh_home
from bot.server.runtime import Runtime, runtime_of, slack_of
from bot.slack.gateway import Slack, SlackFailure, Verdict
from bot.slack.people import profile
from bot.views import blockers as views
from bot.views.common import SLACK_SLOW
from bot.views.common import context as context_block
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import blockers as domain
from ceremonies.blockers import OwnerNotAMember, Source, TrackerSettings
from ceremonies.errors import InvalidInput, NotAllowed
from storage import blockers as store
from storage import outbox, people
from storage.blockers import AgedBlocker, Blocker

log = logging.getLogger("cadence.blockers")


# -- shared steps ---------------------------------------------------------------------------------------------------


def _settings(session: Session, runtime: Runtime, *, team_id: str, channel_id: str) -> TrackerSettings:
    return store.tracker_settings(session, team_id=team_id, channel_id=channel_id,
                                  default_timezone=runtime.settings.default_timezone)


def _aged(session: Session, runtime: Runtime, blockers: list[Blocker], *, team_id: str, channel_id: str,
          now: datetime) -> list[AgedBlocker]:
    settings = _settings(session, runtime, team_id=team_id, channel_id=channel_id)
    return store.aged(session, blockers, team_id=team_id, timezone=settings.timezone, now=now)


def _check_member(runtime: Runtime, slack: Slack, *, team_id: str, user_id: str) -> None:
    """Refuse an owner Slack does not know in this workspace, or one who left it."""
    person = profile(runtime, slack, team_id=team_id, user_id=user_id)
    if person is None or person.is_deleted:
        raise OwnerNotAMember(user_id)


def _post_card(runtime: Runtime, slack: Slack, blocker: Blocker, *, channel_id: str,
               thread_ts: str | None = None) -> bool:
    """Post the blocker's card and remember where; False when the channel is out of reach (e.g. the app is not in it:
    the person is told what to do); any other failure reaches the error handler."""
    try:
        posted = slack.post(channel=channel_id, thread_ts=thread_ts, text=views.card_text(blocker),
                            blocks=views.card_blocks(blocker), unfurl_links=False)
    except SlackFailure as failure:
        if failure.verdict is not Verdict.UNREACHABLE:
            raise
        log.warning("could not post blocker %s in %s: %s", blocker.id, channel_id, failure.error,
                    extra={"team": blocker.team_id, "channel": channel_id})
        return False
    with runtime.db.transaction() as session:
        store.set_message(session, team_id=blocker.team_id, blocker_id=blocker.id, channel_id=posted["channel"],
                          ts=posted["ts"])
    return True


def flag_blocker(runtime: Runtime, slack: Slack, *, team_id: str, channel_id: str, reporter_id: str,
                 text: str, source: Source, owner_id: str | None = None, link: str | None = None) -> tuple[Blocker, bool]:
    """Open a blocker (its owner checked against the workspace first) and post it in the team channel."""
    flagged = domain.parse_blocker_text(text)
    owner = owner_id or flagged.owner_id
    if owner:
        _check_member(runtime, slack, team_id=team_id, user_id=owner)
    with runtime.db.transaction() as session:
        blocker = store.open_blocker(session, team_id=team_id, channel_id=channel_id, reporter_id=reporter_id,
                                     text=flagged.text, source=source, owner_id=owner, link=link,
                                     now=runtime.now())
    return blocker, _post_card(runtime, slack, blocker, channel_id=channel_id)


def resolve(runtime: Runtime, *, team_id: str, blocker_id: int, user_id: str, note: str) -> Blocker:
    """Resolve a blocker (anyone may), redraw its card, and tell the reporter when someone else resolved it."""
    now = runtime.now()
    with runtime.db.transaction() as session:
        blocker = store.resolve(session, team_id=team_id, blocker_id=blocker_id, user_id=user_id, note=note, now=now)
        if blocker.reporter_id != user_id:
            outbox.add(session, team_id=team_id, key=f"blocker.resolved:{blocker.id}", kind="blocker.resolved",
                       channel=blocker.reporter_id, now=now,
                       text=f":white_check_mark: <@{user_id}> resolved your blocker #{blocker.id}: "
                            f"{views.blocker_text(blocker.text, 1000)}")
    return blocker


# -- /blocker -------------------------------------------------------------------------------------------------------


def handle_blocker_command(ack: Ack, command: dict, respond: Respond, context: BoltContext) -> None:
    """Flags what blocks you (`@someone` can unblock it), lists, resolves and sets escalation for the team's blockers."""
    subcommand, rest = first_word(command.get("text"))
    if subcommand == "help":
        ack(text=command_usage_text(BLOCKER), blocks=command_usage_blocks(BLOCKER), response_type="ephemeral")
    elif subcommand == "":
        _usage(ack, "Tell me what is blocking you, e.g. `/blocker waiting on @dana for the API key`.")
    elif subcommand == "list" and not rest.strip():
        _list(ack, command, context)
    elif subcommand == "resolve":
        _resolve_command(ack, command, respond, context, rest)
    elif subcommand == "settings" and not rest.strip():
        _open_settings(ack, command, context)
    else:
        _flag_command(ack, command, respond, context)


def _usage(ack: Ack, problem: str) -> None:
    ack(text=command_usage_text(BLOCKER, problem), blocks=command_usage_blocks(BLOCKER, problem),
        response_type="ephemeral")


def _list(ack: Ack, command: dict, context: BoltContext) -> None:
    runtime, team_id, channel_id = runtime_of(context), command["team_id"], command["channel_id"]
    with runtime.db.reading() as session:
        items = _aged(session, runtime, store.open_blockers(session, team_id=team_id, channel_id=channel_id),
                      team_id=team_id, channel_id=channel_id, now=runtime.now())
    ack(text=views.list_text(items), blocks=views.list_blocks(items, channel_id=channel_id),
        response_type="ephemeral")


def _resolve_command(ack: Ack, command: dict, respond: Respond, context: BoltContext, rest: str) -> None:
    number, note = first_word(rest)
    if not number:
        _usage(ack, "Which blocker? `/blocker list` shows their numbers.")
        return
    ack()
    runtime = runtime_of(context)
    blocker = resolve(runtime, team_id=command["team_id"], blocker_id=domain.parse_blocker_id(number),
                      user_id=command["user_id"], note=domain.clean_note(note))
    respond(text=f":white_check_mark: Blocker #{blocker.id} is resolved.", response_type="ephemeral")
    refresh_home(runtime, slack_of(context), team_id=command["team_id"], user_id=command["user_id"])


def _open_settings(ack: Ack, command: dict, context: BoltContext) -> None:
    """Open the modal at once (the trigger lasts 3 s); who may change the settings (users.info) is asked after."""
    ack()
    runtime, slack, channel_id = runtime_of(context), slack_of(context), command["channel_id"]
    with runtime.db.reading() as session:
        settings = _settings(session, runtime, team_id=command["team_id"], channel_id=channel_id)
    opened = slack.open_view(trigger_id=command["trigger_id"], view=views.settings_modal(
        settings, channel_id=channel_id, response_url=command.get("response_url")))["view"]
    try:
        _require_facilitator(runtime, slack, team_id=command["team_id"], channel_id=channel_id,
                             user_id=command["user_id"])
    except NotAllowed as refusal:
        slack.update_view(view_id=opened["id"], hash=opened.get("hash"),
                          view=views.settings_refusal_modal(f":warning: {refusal}"))


def _flag_command(ack: Ack, command: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    channel_id = command["channel_id"]
    blocker, posted = flag_blocker(runtime_of(context), slack_of(context), team_id=command["team_id"],
                                   channel_id=channel_id, reporter_id=command["user_id"],
                                   text=command.get("text") or "", source=Source.COMMAND)
    where = "posted in the channel" if posted else (
        f"but I couldn't post it in <#{channel_id}>: invite me with `/invite @Cadence`")
    respond(text=f":construction: Blocker #{blocker.id} flagged, {where}. `/blocker resolve {blocker.id}` when it's gone.",
            response_type="ephemeral")


BLOCKER = SlashCommand(
    "/blocker",
    handle_blocker_command,
    ("/blocker <what is blocking you> [@owner]", "/blocker list", "/blocker resolve <number> [note]",
     "/blocker settings", "/blocker help"),
)
SLASH_COMMANDS = (BLOCKER,)


# -- the card's buttons ---------------------------------------------------------------------------------------------


def _action(body: dict) -> dict:
    return body["actions"][0]


def open_resolve_modal(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    blocker_id = domain.parse_blocker_id(_action(body).get("value") or "")
    with runtime.db.transaction() as session:
        blocker = store.get_blocker(session, team_id=context.team_id, blocker_id=blocker_id)
        domain.check_resolvable(blocker_id=blocker.id, status=blocker.status, resolved_by=blocker.resolved_by)
    slack_of(context).open_view(trigger_id=body["trigger_id"], view=views.resolve_modal(blocker))


def submit_resolve(ack: Ack, body: dict, context: BoltContext) -> None:
    runtime = runtime_of(context)
    view = body["view"]
    blocker_id = domain.parse_blocker_id(str(views.metadata(view).get("blocker_id") or 0))
    try:
        note = domain.clean_note(views.parse_note(view))
        with runtime.db.transaction() as session:
            blocker = store.get_blocker(session, team_id=context.team_id, blocker_id=blocker_id)
            domain.check_resolvable(blocker_id=blocker.id, status=blocker.status, resolved_by=blocker.resolved_by)
    except InvalidInput as problem:
        ack(response_action="errors", errors={views.NOTE_BLOCK: str(problem)})
        return
    ack()
    resolve(runtime, team_id=context.team_id, blocker_id=blocker_id, user_id=context.user_id, note=note)
    refresh_home(runtime, slack_of(context), team_id=context.team_id, user_id=context.user_id)


def assign_owner(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    action = _action(body)
    blocker_id = domain.parse_blocker_id(str(action.get("block_id", "")).removeprefix(views.CARD_BLOCK))
    owner_id = action.get("selected_user")
    if owner_id:
        _check_member(runtime, slack_of(context), team_id=context.team_id, user_id=owner_id)
    with runtime.db.transaction() as session:
        blocker = store.get_blocker(session, team_id=context.team_id, blocker_id=blocker_id)
        domain.check_resolvable(blocker_id=blocker.id, status=blocker.status, resolved_by=blocker.resolved_by)
        blocker = store.assign_owner(session, team_id=context.team_id, blocker_id=blocker_id, owner_id=owner_id)
        store.redraw_card(session, blocker, now=runtime.now())


def offer_help(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    blocker_id = domain.parse_blocker_id(_action(body).get("value") or "")
    with runtime.db.transaction() as session:
        blocker = store.get_blocker(session, team_id=context.team_id, blocker_id=blocker_id)
        domain.check_resolvable(blocker_id=blocker.id, status=blocker.status, resolved_by=blocker.resolved_by)
    if blocker.reporter_id == context.user_id:
        respond(text="That's your own blocker; the button tells its reporter who offered.",
                response_type="ephemeral", replace_original=False)
        return
    with runtime.db.transaction() as session:  # one DM however many times the helper clicks
        outbox.add(session, team_id=context.team_id, key=f"blocker.help:{blocker.id}:{context.user_id}",
                   kind="blocker.help", channel=blocker.reporter_id, now=runtime.now(),
                   text=views.help_offer_text(blocker, helper_id=context.user_id))
    respond(text=f":raised_hand: I told <@{blocker.reporter_id}> you offered to help with blocker #{blocker.id}.",
            response_type="ephemeral", replace_original=False)


# -- the stand-up prompt's questions --------------------------------------------------------------------------------


def _answer_in_prompt(body: dict, respond: Respond, blocker_id: int, answer: str) -> None:
    """Replace the question's buttons in the prompt with the answer given, leaving the rest of the prompt as it was."""
    message = body.get("message") or {}
    blocks = [
        context_block(answer) if block.get("block_id") == f"blocker.prompt:{blocker_id}" else block
        for block in message.get("blocks") or []
    ]
    if blocks:
        respond(text=message.get("text") or answer, blocks=blocks, replace_original=True)
    else:
        respond(text=answer, response_type="ephemeral", replace_original=False)


def prompt_resolved(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    blocker_id = domain.parse_blocker_id(_action(body).get("value") or "")
    resolve(runtime, team_id=context.team_id, blocker_id=blocker_id, user_id=context.user_id, note="")
    _answer_in_prompt(body, respond, blocker_id, f":white_check_mark: Blocker #{blocker_id} marked resolved.")
    refresh_home(runtime, slack_of(context), team_id=context.team_id, user_id=context.user_id)


def prompt_still_blocked(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    blocker_id = domain.parse_blocker_id(_action(body).get("value") or "")
    with runtime.db.transaction() as session:
        blocker = store.get_blocker(session, team_id=context.team_id, blocker_id=blocker_id)
        domain.check_resolvable(blocker_id=blocker.id, status=blocker.status, resolved_by=blocker.resolved_by)
        [item] = _aged(session, runtime, [blocker], team_id=blocker.team_id, channel_id=blocker.channel_id,
                       now=runtime.now())
    _answer_in_prompt(body, respond, blocker_id,
                      f":construction: Still blocked on #{blocker_id} (open {domain.describe_age(item.age)}); "
                      "it stays in the team's digest.")


# -- "Flag as blocker" on any message -------------------------------------------------------------------------------


def open_flag_modal(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    message = body.get("message") or {}
    view = views.flag_modal(text=message.get("text") or "", channel_id=body["channel"]["id"],
                            message_ts=message.get("ts") or body.get("message_ts") or "")
    slack_of(context).open_view(trigger_id=body["trigger_id"], view=view)


def submit_flag(ack: Ack, body: dict, context: BoltContext) -> None:
    runtime, slack = runtime_of(context), slack_of(context)
    form = views.parse_flag(body["view"])
    try:
        owner = form.owner_id or domain.parse_blocker_text(form.text).owner_id
    except InvalidInput as problem:
        ack(response_action="errors", errors={views.TEXT_BLOCK: str(problem)})
        return
    if owner:
        try:  # Slack's first answer within 2 s, never a retry's sleep: Slack waits 3 s for the ack
            _check_member(runtime, slack.quick(), team_id=context.team_id, user_id=owner)
        except OwnerNotAMember as problem:
            ack(response_action="errors", errors={views.OWNER_BLOCK: str(problem)})
            return
        except SlackFailure as failure:
            if not failure.answer.retryable:
                raise
            ack(response_action="errors", errors={views.OWNER_BLOCK: SLACK_SLOW})
            return
    ack()
    blocker, posted = flag_blocker(runtime, slack, team_id=context.team_id, channel_id=form.channel_id,
                                   reporter_id=context.user_id, text=form.text, source=Source.MESSAGE,
                                   owner_id=owner, link=_permalink(slack, form.channel_id, form.message_ts))
    if not posted:
        slack.post(channel=context.user_id,
                   text=f":construction: Blocker #{blocker.id} is saved, but I couldn't post it in "
                        f"<#{form.channel_id}>: invite me with `/invite @Cadence`.")


def _permalink(slack: Slack, channel_id: str, ts: str) -> str | None:
    """The flagged message's link; None where the app cannot see the conversation (a private channel or DM it is
    not in): the blocker is kept, without the link, rather than lost."""
    try:
        return slack.permalink(channel=channel_id, ts=ts) or None
    except SlackFailure as failure:
        if failure.verdict is not Verdict.UNREACHABLE:
            raise
        return None


# -- settings -------------------------------------------------------------------------------------------------------


def _require_facilitator(runtime: Runtime, slack: Slack, *, team_id: str, channel_id: str, user_id: str) -> None:
    """Refuse (one ephemeral line) unless `user_id` facilitates the channel's team or is a workspace admin."""
    with runtime.db.reading() as session:
        allowed = store.facilitators(session, team_id=team_id, channel_id=channel_id)
    if allowed:
        roles.require_admin(runtime, slack, team_id=team_id, user_id=user_id, facilitator_ids=allowed,
                            action=f"change the blocker settings of <#{channel_id}>")


def submit_settings(ack: Ack, body: dict, context: BoltContext) -> None:
    runtime, slack = runtime_of(context), slack_of(context)
    form = views.parse_settings(body["view"])
    settings, problems = domain.validate_settings(threshold=form.threshold, contact_id=form.contact_id,
                                                  digest_time=form.digest_time, timezone=form.timezone)
    if settings is None:
        ack(response_action="errors", errors=views.settings_errors(problems))
        return
    try:  # checked again on saving: the modal names its channel, and who may change it can change meanwhile
        _require_facilitator(runtime, slack.quick(), team_id=context.team_id or "", channel_id=form.channel_id,
                             user_id=context.user_id or "")
    except NotAllowed as refusal:
        ack(response_action="errors", errors=views.settings_errors({"threshold": str(refusal)[:150]}))
        return
    except SlackFailure as failure:
        if not failure.answer.retryable:
            raise
        ack(response_action="errors", errors=views.settings_errors({"threshold": SLACK_SLOW}))
        return
    ack()
    with runtime.db.transaction() as session:
        store.save_tracker_settings(session, team_id=context.team_id, channel_id=form.channel_id, settings=settings,
                                    user_id=context.user_id, now=runtime.now())
    slack.tell(user=context.user_id or "", response_url=form.response_url, channel=form.channel_id,
               text=views.settings_saved_text(settings, channel_id=form.channel_id))


# -- stand-up hooks -------------------------------------------------------------------------------------------------


def on_standup_answer(session: Session, event: hooks.StandupAnswerRecorded) -> None:
    """A stand-up answer naming a blocker opens one in the day's thread; an edit updates it (or resolves it when the
    edited answer says there is none). In the answer's transaction: rows and queued messages only."""
    owner = domain.parse_blocker_text((event.blocker_text or "").strip()[: domain.TEXT_LIMIT]).owner_id \
        if not domain.says_no_blocker(event.blocker_text) else None
    person = people.get_person(session, team_id=event.team_id, user_id=owner) if owner else None
    if person is not None and person.is_deleted:
        owner = None  # nobody to tell in a stand-up answer: the blocker is kept without an owner
    store.apply_standup_answer(session, team_id=event.team_id, channel_id=event.channel_id,
                               report_channel_id=event.report_channel_id, reporter_id=event.user_id,
                               answer_id=event.answer_id, blocker_text=event.blocker_text, owner_id=owner,
                               parent_key=event.report_parent_key, now=event.now)


def blocker_questions(session: Session, prompt: hooks.PromptContext) -> hooks.Blocks:
    """The reporter's open blockers in this team channel, each with Resolved / Still blocked, for their prompt."""
    items = store.open_blockers_for_user(session, team_id=prompt.team_id, user_id=prompt.user_id,
                                         channel_id=prompt.channel_id)
    return views.prompt_blocks(items, channel_id=prompt.channel_id)


# -- the App Home ---------------------------------------------------------------------------------------------------


def home_section(runtime: Runtime, context: hooks.HomeContext) -> hooks.Blocks:
    """The open blockers the person reported or owns, oldest first with their working age and a Resolve button."""
    with runtime.db.reading() as session:
        blockers = store.open_blockers_involving(session, team_id=context.team_id, user_id=context.user_id)
        by_channel: dict[str, list[Blocker]] = {}
        for blocker in blockers:
            by_channel.setdefault(blocker.channel_id, []).append(blocker)
        items = [item for channel_id, found in by_channel.items()
                 for item in _aged(session, runtime, found, team_id=context.team_id, channel_id=channel_id,
                                   now=context.now)]
    items.sort(key=lambda item: (item.blocker.created_at, item.blocker.id))
    return views.home_blocks(items, user_id=context.user_id)


def home_teams(runtime: Runtime, context: hooks.HomeContext) -> set[str]:
    """The team channels where the person reported or owns a blocker."""
    with runtime.db.reading() as session:
        return store.channels_of(session, team_id=context.team_id, user_id=context.user_id)


def register(app: App) -> None:
    app.command(BLOCKER.name)(handle_blocker_command)
    app.action(views.RESOLVE)(open_resolve_modal)
    app.action(views.ASSIGN)(assign_owner)
    app.action(views.HELP)(offer_help)
    app.action(views.PROMPT_RESOLVED)(prompt_resolved)
    app.action(views.PROMPT_STILL_BLOCKED)(prompt_still_blocked)
    app.shortcut(views.FLAG_SHORTCUT)(open_flag_modal)
    app.view(views.RESOLVE_MODAL)(submit_resolve)
    app.view(views.FLAG_MODAL)(submit_flag)
    app.view(views.SETTINGS_MODAL)(submit_settings)
    hooks.on_standup_answer(on_standup_answer)
    hooks.add_prompt_section(blocker_questions)
    hooks.add_home_section(home_section)
    hooks.add_team_finder(home_teams)
