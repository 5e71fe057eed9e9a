"""`/cadence digest` (workspace admins): who gets the weekly executive digest and when; `/cadence digest revoke`
withdraws report page links. The digest itself goes out from bot/jobs/digest.py."""

from __future__ import annotations

import json
import re

from slack_bolt import Ack, App, BoltContext, Respond

from bot.listeners import roles
from bot.listeners.commands import first_word
from bot.reports.links import page_url
from bot.server.runtime import Runtime, runtime_of, slack_of
from bot.slack.people import profile
from bot.views import digest as views
from ceremonies import digest as domain
from ceremonies.errors import InvalidInput, NotAllowed
from storage import digest as store

LINK = re.compile(r"(?:/reports/)?([A-Za-z0-9_-]{8,32})(?:\.[0-9a-f]+)?/?>?$")


def handle_digest(ack: Ack, command: dict, respond: Respond, context: BoltContext, rest: str) -> None:
    """`/cadence digest` opens the settings; `/cadence digest revoke [link]` withdraws links."""
    subcommand, argument = first_word(rest)
    ack()
    runtime, slack = runtime_of(context), slack_of(context)
    checks = slack.quick()  # before the modal opens (its trigger lasts 3 s): 2 s for these calls, no retry
    roles.require_admin(runtime, checks, team_id=context.team_id or "", user_id=context.user_id or "",
                        action="set up the executive digest or revoke report links")
    if subcommand == "revoke":
        revoke(runtime, respond, context, argument)
        return
    if subcommand:
        raise InvalidInput(f"I don't know `digest {subcommand[:30]}`: try `/cadence digest` or "
                           "`/cadence digest revoke [link]`.")
    person = profile(runtime, checks, team_id=context.team_id or "", user_id=context.user_id or "")
    timezone = (person.timezone if person and person.timezone else None) or runtime.settings.default_timezone
    with runtime.db.reading() as session:
        found = store.schedule_of(session, team_id=context.team_id or "")
        current = _settings(*found) if found is not None else None
    view = views.settings_modal(current, timezone=timezone)
    view["private_metadata"] = json.dumps({"channel_id": command.get("channel_id") or ""})
    slack.open_view(trigger_id=command["trigger_id"], view=view)


def _settings(row: store.DigestSchedule, recipients: list[str]) -> domain.DigestSettings:
    return domain.DigestSettings(tuple(r for r in recipients if r[0] in "CGD"),
                                 tuple(r for r in recipients if r[0] in "UW"), row.weekday, row.send_time, row.timezone)


def revoke(runtime: Runtime, respond: Respond, context: BoltContext, argument: str) -> None:
    public_id = None
    if argument.strip():
        matched = LINK.search(argument.strip())
        if matched is None:
            raise InvalidInput("paste a report link (…/reports/…), or say `/cadence digest revoke` to revoke them all.")
        public_id = matched.group(1)
    with runtime.db.transaction() as session:
        count = store.revoke(session, team_id=context.team_id or "", by=context.user_id or "", now=runtime.now(),
                             public_id=public_id)
    respond(text=views.revoked_text(count), response_type="ephemeral")


def submit_settings(ack: Ack, body: dict, context: BoltContext) -> None:
    runtime, slack = runtime_of(context), slack_of(context)
    settings, problems = domain.validate_settings(**views.parse_settings(body["view"]))
    if settings is None:
        ack(response_action="errors", errors=views.settings_errors(problems))
        return
    try:  # checked again on saving: who is an admin can change while the modal is open
        roles.require_admin(runtime, slack, team_id=context.team_id or "", user_id=context.user_id or "",
                            action="set up the executive digest")
    except NotAllowed as refusal:
        ack(response_action="errors", errors=views.settings_errors({"recipients": str(refusal)}))
        return
    ack()
    now = runtime.now()
    with runtime.db.transaction() as session:
        row = store.save_schedule(session, team_id=context.team_id or "", settings=settings,
                                  by=context.user_id or "", now=now)
        link = store.create_link(session, team_id=row.team_id, kind=store.DIGEST, sprint_id=None,
                                 by=context.user_id or "", now=now, days=runtime.settings.report_link_days)
        text = views.saved_text(settings, next_due=row.next_due_at, url=page_url(runtime, link),
                                link_days=runtime.settings.report_link_days)
    channel = json.loads(body["view"].get("private_metadata") or "{}").get("channel_id") or ""
    if channel:
        slack.ephemeral(channel=channel, user=context.user_id or "", text=text)


def register(app: App) -> None:
    app.view(views.SETTINGS_VIEW)(submit_settings)
