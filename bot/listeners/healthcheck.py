"""`/healthcheck`: the team health check — set-up, rounds opened now or on schedule, anonymous answers in a modal.

Everything a round sends on its own (invitations, the one reminder, results, the chart) is queued in the outbox by the
use cases and drawn by bot/jobs/healthcheck.py. An answer goes only into the person's own modal: nothing here sends,
logs or stores it next to who gave it.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot import hooks
from bot.listeners import roles
from bot.listeners.commands import SlashCommand, first_word
from bot.listeners.home import refresh_home
from bot.server.errors import cannot_work_in
from bot.server.runtime import Runtime, runtime_of, slack_of
from bot.slack.gateway import Slack, SlackFailure, Verdict
from bot.views import healthcheck as views
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import healthcheck as domain
from ceremonies.errors import CadenceError, NotAllowed
from storage import healthcheck as store


def handle_healthcheck_command(ack: Ack, command: dict, context: BoltContext, respond: Respond) -> None:
    """Anonymous team health checks: green / amber / red per dimension, results once enough people answered."""
    subcommand, rest = first_word(command.get("text"))
    runtime, team_id, channel_id = runtime_of(context), command["team_id"], command["channel_id"]
    if subcommand == "help" or (subcommand in ("setup", "now", "close") and rest):
        ack(**_usage(None if subcommand == "help" else f"`/healthcheck {subcommand}` takes nothing after it."))
    elif subcommand == "":
        ack()
        respond(text=_status(runtime, team_id=team_id, channel_id=channel_id), response_type="ephemeral")
    elif subcommand == "setup":
        ack()
        _open_setup(runtime, slack_of(context), team_id=team_id, channel_id=channel_id, user_id=command["user_id"],
                    trigger_id=command["trigger_id"])
    elif subcommand == "now":
        ack()
        _require_facilitator(runtime, slack_of(context), team_id=team_id, channel_id=channel_id,
                             user_id=command["user_id"], action="open a health check round here")
        with runtime.db.transaction() as session:
            opened = store.open_now(session, team_id=team_id, channel_id=channel_id, by=command["user_id"],
                                    now=runtime.now())
        respond(text=views.opened_text(participants=opened.participants, closes_at=opened.closes_at),
                response_type="ephemeral")
    elif subcommand == "close":
        ack()
        _close_early(runtime, slack_of(context), respond, team_id=team_id, channel_id=channel_id,
                     user_id=command["user_id"])
    else:
        ack(**_usage(f"I don't know `{subcommand[:50]}`."))


def _close_early(runtime: Runtime, slack: Slack, respond: Respond, *, team_id: str, channel_id: str,
                 user_id: str) -> None:
    """`/healthcheck close`: end the open round now; its results (or only the count, below k) go to the channel."""
    _require_facilitator(runtime, slack, team_id=team_id, channel_id=channel_id, user_id=user_id,
                         action="close this channel's health check round")
    with runtime.db.transaction() as session:
        answers = store.close_now(session, team_id=team_id, channel_id=channel_id, now=runtime.now())
    respond(text=views.closed_early_text(answers), response_type="ephemeral")


def _usage(problem: str | None) -> dict[str, Any]:
    return {"text": command_usage_text(HEALTHCHECK, problem), "blocks": command_usage_blocks(HEALTHCHECK, problem),
            "response_type": "ephemeral"}


def _status(runtime: Runtime, *, team_id: str, channel_id: str) -> str:
    with runtime.db.reading() as session:
        check = store.get_check(session, team_id=team_id, channel_id=channel_id)
        setup = store.setup_of(session, check) if check is not None else None
        found = store.open_round_of(session, team_id=team_id, channel_id=channel_id, now=runtime.now())
        open_round = (found.answer_count, len(store.round_participants(session, team_id=team_id, round_id=found.id)),
                      found.closes_at) if found is not None else None
    return views.status_text(setup, channel_id=channel_id, open_round=open_round)


def _require_facilitator(runtime: Runtime, slack: Slack, *, team_id: str, channel_id: str, user_id: str,
                         action: str) -> None:
    """Refuse (one line) unless the person set up the health check, facilitates the team, or is an admin; in a
    channel with no facilitator yet anyone may start."""
    with runtime.db.reading() as session:
        allowed = store.facilitators(session, team_id=team_id, channel_id=channel_id)
    if allowed:
        roles.require_admin(runtime, slack, team_id=team_id, user_id=user_id, facilitator_ids=allowed, action=action)


def _open_setup(runtime: Runtime, slack: Slack, *, team_id: str, channel_id: str, user_id: str, trigger_id: str
                ) -> None:
    """Open the modal at once (the trigger lasts 3 s), then check who may change it, replacing it with the refusal."""
    with runtime.db.reading() as session:
        check = store.get_check(session, team_id=team_id, channel_id=channel_id)
        setup = store.setup_of(session, check) if check is not None else store.default_setup(
            session, team_id=team_id, channel_id=channel_id, timezone=runtime.settings.default_timezone)
    opened = slack.open_view(trigger_id=trigger_id, view=views.setup_modal(setup, channel_id=channel_id))
    try:
        _require_facilitator(runtime, slack, team_id=team_id, channel_id=channel_id, user_id=user_id,
                             action="change this channel's health check")
    except NotAllowed as refusal:
        slack.update_view(view_id=opened["view"]["id"], hash=opened["view"].get("hash"),
                          view=views.notice_modal(str(refusal)))


def submit_setup(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    """Save the channel's health check, or refuse it inline."""
    runtime, slack = runtime_of(context), slack_of(context)
    team_id, user_id, channel_id = body["team"]["id"], body["user"]["id"], views.metadata(view).get("channel", "")
    setup, problems = domain.validate_setup(**views.parse_setup(view))
    errors = views.setup_errors(problems)
    try:  # checked again on saving: who may change it can change meanwhile
        _require_facilitator(runtime, slack, team_id=team_id, channel_id=channel_id, user_id=user_id,
                             action="change this channel's health check")
    except NotAllowed as refusal:
        errors = {views.B_DIMENSIONS: str(refusal)}
    if not errors and (refusal_text := cannot_work_in(slack, channel_id=channel_id)):
        errors = {views.B_DIMENSIONS: refusal_text}
    if errors or setup is None:
        ack(response_action="errors", errors=errors)
        return
    ack()
    with runtime.db.transaction() as session:
        check = store.save_check(session, team_id=team_id, channel_id=channel_id, setup=setup, by=user_id,
                                 now=runtime.now())
        text = views.saved_text(setup, channel_id=channel_id, next_round_at=check.next_round_at)
    _confirm(slack, channel_id=channel_id, user_id=user_id, text=text)


def _confirm(slack: Slack, *, channel_id: str, user_id: str, text: str) -> None:
    """Confirm privately in the channel, or in the person's DM where Cadence cannot post an ephemeral."""
    try:
        slack.ephemeral(channel=channel_id, user=user_id, text=text)
    except SlackFailure as failure:
        if failure.verdict is not Verdict.UNREACHABLE:
            raise
        slack.post(channel=user_id, text=text)


def open_answer(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    """Answer (in the DM or on the Home): the modal, with the person's earlier answer preselected."""
    ack()
    runtime = runtime_of(context)
    value = str(action.get("value") or "")
    try:
        if not value.isdigit() or int(value) >= 2**31:
            raise domain.RoundNotFound()
        with runtime.db.reading() as session:
            asked = store.questions_for(session, team_id=body["team"]["id"], round_id=int(value),
                                        user_id=body["user"]["id"], secret=runtime.settings.cadence_anonymity_secret,
                                        now=runtime.now())
        view = views.answer_modal(round_id=asked.round_id, channel_id=asked.channel_id, closes_at=asked.closes_at,
                                  dimensions=asked.dimensions, previous=asked.previous)
    except CadenceError as error:
        view = views.notice_modal(str(error))
    slack_of(context).open_view(trigger_id=body["trigger_id"], view=view)


def submit_answer(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    """Store the answer under the person's keyed hash (a missing rating is refused inline); thank them in the modal."""
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    round_id, asked, ratings, trends, comment = views.parse_answer(view)
    answer, problems = domain.validate_answer(dimensions=asked, ratings=ratings, trends=trends, comment=comment)
    if answer is None or round_id is None:
        ack(response_action="errors", errors=views.answer_errors(problems) or {views.B_COMMENT: "Reopen the modal."})
        return
    try:
        with runtime.db.transaction() as session:
            first = store.record_answer(session, team_id=team_id, round_id=round_id, user_id=user_id, answer=answer,
                                        secret=runtime.settings.cadence_anonymity_secret, now=runtime.now())
            closes_at = store.get_round(session, team_id=team_id, round_id=round_id).closes_at
    except CadenceError as error:
        ack(response_action="update", view=views.notice_modal(str(error)))
        return
    ack(response_action="update", view=views.thanks_modal(closes_at=closes_at, first=first))
    refresh_home(runtime, slack_of(context), team_id=team_id, user_id=user_id)


def home_section(runtime: Runtime, context: hooks.HomeContext) -> hooks.Blocks:
    """Open rounds the person takes part in, with Answer (or Change my answer)."""
    with runtime.db.reading() as session:
        waiting = store.open_rounds_for(session, team_id=context.team_id, user_id=context.user_id,
                                        secret=runtime.settings.cadence_anonymity_secret, now=context.now)
    return views.home_blocks([(w.round_id, w.channel_id, w.closes_at, w.answered) for w in waiting])


def home_teams(runtime: Runtime, context: hooks.HomeContext) -> set[str]:
    """The team channels whose health check the person takes part in or set up."""
    with runtime.db.reading() as session:
        return store.channels_of(session, team_id=context.team_id, user_id=context.user_id)


HEALTHCHECK = SlashCommand(
    "/healthcheck",
    handle_healthcheck_command,
    ("/healthcheck", "/healthcheck setup", "/healthcheck now", "/healthcheck close", "/healthcheck help"),
)
SLASH_COMMANDS = (HEALTHCHECK,)


def register(app: App) -> None:
    app.command(HEALTHCHECK.name)(handle_healthcheck_command)
    app.view(views.SETUP_VIEW)(submit_setup)
    app.action(views.ANSWER)(open_answer)
    app.view(views.ANSWER_VIEW)(submit_answer)
    hooks.add_home_section(home_section)
    hooks.add_team_finder(home_teams)
