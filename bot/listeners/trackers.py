"""Jira and GitHub: `/cadence connect|disconnect jira|github`, poker sessions from a tracker search, and "Create
issue" on retro action items. The tracker calls a person waits for happen after the ack; writes back go through the
tracker outbox (bot/jobs/trackers.py)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from sqlalchemy.orm import Session

from bot import hooks
from bot.listeners import roles
from bot.server.background import within
from bot.server.runtime import Runtime, runtime_of, slack_of
from bot.slack.gateway import Slack
from bot.trackers import connections
from bot.trackers.base import TrackerError
from bot.views import poker as poker_views
from bot.views import trackers as views
from ceremonies import poker
from ceremonies import trackers as domain
from ceremonies.errors import InvalidInput, NotAllowed
from storage import sprint as sprints
from storage import standup
from storage import trackers as store
from storage import trackers_cases as cases

log = logging.getLogger("cadence.trackers")

WEBHOOK_BASE = "https://YOUR-CADENCE-HOST"  # shown when CADENCE_PUBLIC_URL is not set


# -- who may connect --------------------------------------------------------------------------------------------------
def _require_admin(runtime: Runtime, slack: Slack, *, team_id: str, channel_id: str, user_id: str) -> None:
    """An admin, or the facilitator of the channel's team (its stand-up's owner or its running sprint's)."""
    with runtime.db.reading() as session:
        found = {standup.owner_of(session, team_id=team_id, channel_id=channel_id),
                 sprints.facilitator_of(session, team_id=team_id, channel_id=channel_id)}
    roles.require_admin(runtime, slack, team_id=team_id, user_id=user_id, facilitator_ids={f for f in found if f},
                        action="connect or disconnect a tracker")


# -- /cadence connect | disconnect ------------------------------------------------------------------------------------
def _kind(ack: Ack, text: str) -> domain.Kind | None:
    """The tracker named after connect/disconnect; a wrong name is answered with one ephemeral line."""
    try:
        return domain.parse_kind(text)
    except InvalidInput as problem:
        ack(text=f":warning: {str(problem)[:1].upper()}{str(problem)[1:]}", response_type="ephemeral")
        return None


def connect(ack: Ack, command: dict, context: BoltContext, rest: str) -> None:
    """`/cadence connect jira|github`: the connect modal, for an admin or the team's facilitator."""
    kind = _kind(ack, rest)
    if kind is None:
        return
    ack()
    runtime, slack = runtime_of(context), slack_of(context)
    # The modal opens first (its trigger lasts 3 s); who may connect needs Slack (users.info), so it is asked after
    # and the modal turns into the refusal. The submission asks again before anything is stored.
    opened = slack.open_view(trigger_id=command["trigger_id"], view=views.connect_modal(kind, command["channel_id"]))
    try:
        _require_admin(runtime, slack, team_id=command["team_id"], channel_id=command["channel_id"],
                       user_id=command["user_id"])
    except NotAllowed as refusal:
        slack.update_view(view_id=opened["view"]["id"], hash=opened["view"].get("hash"),
                          view=views.refused_view(kind, str(refusal)))


def disconnect(ack: Ack, command: dict, context: BoltContext, rest: str) -> None:
    """`/cadence disconnect jira|github`: the token is deleted."""
    kind = _kind(ack, rest)
    if kind is None:
        return
    ack()
    runtime, slack = runtime_of(context), slack_of(context)
    team_id, channel_id, user_id = command["team_id"], command["channel_id"], command["user_id"]
    _require_admin(runtime, slack, team_id=team_id, channel_id=channel_id, user_id=user_id)
    with runtime.db.transaction() as session:
        removed = store.delete_connection(session, team_id=team_id, kind=kind, channel_id=channel_id)
    slack.ephemeral(channel=channel_id, user=user_id, text=views.disconnected_text(kind, removed))


# A check that has not answered by then is acknowledged with "checking…" and shown when it answers: Slack closes a
# modal whose submission is not acknowledged within 3 s, and the admin check and the save come on top of the call.
ANSWER_SECONDS = 2.0


@dataclass(frozen=True)
class _Checked:
    view: dict[str, Any] | None = None  # the connection made
    errors: dict[str, str] | None = None  # or why not, by block id


def submit_connect(ack: Ack, body: dict, context: BoltContext) -> None:
    """The connect modal submitted: the credentials are checked with one call and, when the tracker takes them,
    stored encrypted. Its refusal is shown on the field it concerns, in its own words.

    The answer is the acknowledgement itself when the check is done within ANSWER_SECONDS (almost always); a slower
    tracker gets a "checking…" modal that is updated with the answer when it comes."""
    runtime, slack = runtime_of(context), slack_of(context)
    answers = views.parse_connect(body["view"])
    form, problems = domain.check_connect_form(answers.kind, site_url=answers.site_url, email=answers.email,
                                               token=answers.token, project=answers.project, app_id=answers.app_id,
                                               installation_id=answers.installation_id,
                                               private_key=answers.private_key)
    if form is None:
        ack(response_action="errors", errors=views.connect_errors(problems))
        return
    checking = within(ANSWER_SECONDS, lambda: _check_and_save(runtime, slack, form, answers, team_id=context.team_id
                                                              or "", user_id=body["user"]["id"]))
    if checking.done():
        checked = checking.result()
        if checked.view:
            ack(response_action="update", view=checked.view)
        else:
            ack(response_action="errors", errors=checked.errors)
        return
    ack(response_action="update", view=views.checking_view(form.kind))
    checked = checking.result()
    slack.update_view(view_id=body["view"]["id"], view=checked.view or views.connect_modal(
        form.kind, answers.channel_id, filled=answers, refusal=checked.errors))


def _check_and_save(runtime: Runtime, slack: Slack, form: domain.ConnectForm, answers: views.ConnectAnswers, *,
                    team_id: str, user_id: str) -> _Checked:
    app = bool(form.credentials.app_id)  # a GitHub App installation: its refusals go under its fields
    try:  # checked again on submit: who may connect can change while the modal is open
        _require_admin(runtime, slack, team_id=team_id, channel_id=answers.channel_id, user_id=user_id)
        secret = connections.encrypt_credentials(runtime.settings, form.credentials)
        webhook_clear, webhook_secret = connections.new_webhook_secret(runtime.settings)
    except (NotAllowed, connections.NoEncryptionKey) as problem:
        return _Checked(errors=views.connect_errors({"private_key" if app else "token": str(problem)}))
    tracker = connections.tracker_for(runtime.settings, form.kind, site_url=form.site_url,
                                      credentials=form.credentials, timeout=connections.CHECK_TIMEOUT_SECONDS)
    try:
        account = tracker.whoami()
    except TrackerError as refused:
        if app:  # 404: GitHub knows no such installation of that App
            field = "installation_id" if refused.status == 404 else "private_key"
        else:
            field = "site_url" if form.kind is domain.Kind.JIRA and refused.status in (0, 404) else "token"
        return _Checked(errors=views.connect_errors({field: refused.message}))
    webhook_clear = _save(runtime, form, team_id=team_id, channel_id=answers.scope, user_id=user_id, account=account,
                          secret=secret, webhook=(webhook_clear, webhook_secret))
    base = runtime.settings.cadence_public_url or WEBHOOK_BASE
    url = f"{base}/trackers/{form.kind.value}?team={team_id}" + (
        f"&channel={answers.scope}" if answers.scope else "")
    log.info("%s connected", form.kind.value, extra={"team": team_id, "user": user_id})
    return _Checked(view=views.connected_view(form.kind, account=account, webhook_url=url,
                                              webhook_secret=webhook_clear, channel_id=answers.scope))


def _save(runtime: Runtime, form: domain.ConnectForm, *, team_id: str, channel_id: str, user_id: str, account: str,
          secret: str, webhook: tuple[str, str]) -> str:
    """Store the connection; the webhook secret to show (an earlier connection's is kept: the tracker has it)."""
    clear, encrypted = webhook
    with runtime.db.transaction() as session:
        row = store.save_connection(session, team_id=team_id, kind=form.kind, channel_id=channel_id,
                                    site_url=form.site_url,
                                    account=account, secret=secret, webhook_secret=encrypted,
                                    project=form.project, by=user_id, now=runtime.now())
        stored = row.webhook_secret
    return clear if stored == encrypted else connections.cipher(runtime.settings).decrypt(stored)


# -- poker from a tracker ---------------------------------------------------------------------------------------------
def start_poker_from(context: BoltContext, *, kind: domain.Kind, text: str, channel_id: str, facilitator_id: str,
                     deck: poker.Deck | None = None, participants: list[str] | None = None,
                     auto_reveal: bool = True,
                     reveal_policy: poker.RevealPolicy = poker.RevealPolicy.FACILITATOR) -> None:
    """`/poker jira <JQL>` or `/poker github <owner/repo> [terms]` (after the ack): the issues found become the
    session's stories; a search the tracker refuses is told to the facilitator in its words, and nothing starts."""
    runtime, slack = runtime_of(context), slack_of(context)
    team_id = context.team_id or ""
    search = domain.parse_search(kind, text)
    with runtime.db.reading() as session:
        row = store.connection(session, team_id=team_id, kind=kind, channel_id=channel_id)
    if row is None:
        raise InvalidInput(views.not_connected_text(kind))
    try:
        issues, total = connections.open_tracker(runtime.settings, row).search(search, limit=domain.IMPORT_MAX)
    except TrackerError as refused:
        slack.ephemeral(channel=channel_id, user=facilitator_id, text=views.import_failed_text(kind, refused.message))
        return
    imported = domain.imported(issues, total)
    deck = deck or poker.standard_deck(poker.DeckName.FIBONACCI)
    slack.ensure_member(channel=channel_id)
    text_, blocks = poker_views.parent_message(facilitator_id=facilitator_id, deck=deck,
                                               stories=len(imported.stories))
    posted = slack.post(channel=channel_id, text=text_, blocks=blocks)
    with runtime.db.transaction() as session:
        cases.start_poker(session, team_id=team_id, channel_id=channel_id, facilitator_id=facilitator_id,
                          parent_ts=posted["ts"], deck=deck, kind=kind, imported=imported,
                          participants=participants or [], auto_reveal=auto_reveal, reveal_policy=reveal_policy,
                          now=runtime.now())


def connected_sources(runtime: Runtime, team_id: str, channel_id: str) -> list[domain.Kind]:
    """The trackers serving the channel (the poker modal offers them as a source)."""
    with runtime.db.reading() as session:
        return store.connected_kinds(session, team_id=team_id, channel_id=channel_id)


# -- retro action items -----------------------------------------------------------------------------------------------
def create_issue(ack: Ack, body: dict, context: BoltContext) -> None:
    """"Create issue" on an action item: queued for the tracker (the item's owner hears when it exists)."""
    ack()
    runtime = runtime_of(context)
    value = str(body["actions"][0].get("value") or "")
    kind_text, _, item = value.partition(":")
    if not item.isdigit():
        return
    kind = domain.parse_kind(kind_text)
    with runtime.db.transaction() as session:
        queued = cases.queue_action_issue(session, team_id=context.team_id or "", item_id=int(item), kind=kind,
                                          user_id=body["user"]["id"], now=runtime.now())
    channel = (body.get("channel") or {}).get("id") or context.channel_id
    if channel:
        text = (f":hourglass: Creating the {domain.LABELS[kind]} issue; you'll get its link." if queued
                else f"A {domain.LABELS[kind]} issue was already asked for that action item.")
        slack_of(context).ephemeral(channel=channel, user=body["user"]["id"], text=text)


def follow_up_issue(session: Session, event: hooks.ReviewFollowUpCreated) -> None:
    """A sprint review's follow-up story: an issue in the tracker serving the team (queued with the story)."""
    cases.queue_follow_up_issue(session, team_id=event.team_id, channel_id=event.channel_id,
                                sprint_story_id=event.sprint_story_id, title=event.title, note=event.note,
                                by=event.by, now=event.now)


def register(app: App) -> None:
    app.view(views.CONNECT)(submit_connect)
    hooks.on_review_follow_up(follow_up_issue)
    app.action(re.compile(rf"^{re.escape(views.CREATE_ISSUE)}\.(jira|github)$"))(create_issue)
