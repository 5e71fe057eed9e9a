"""The one global error handler: log with context, tell the user briefly."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk.webhook import WebhookClient
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.server.edge import VERIFIED
from bot.server.runtime import slack_of
from bot.slack.gateway import Slack, SlackFailure, Verdict
from bot.views.common import SLACK_SLOW
from ceremonies.errors import CadenceError

log = logging.getLogger("cadence.errors")

SOMETHING_WENT_WRONG = ":warning: Something went wrong on our side. Please try again."
DATABASE_UNAVAILABLE = ":hourglass: Cadence can't reach its database right now. Please try again in a moment."
SLACK_BUSY = ":hourglass: Slack is not answering Cadence right now. Please try again in a moment."
PERSON_GONE = ":warning: Slack says that person is no longer in this workspace."


def user_message(error: Exception, *, channel_id: str | None = None) -> str:
    """What the person who clicked or typed is told about `error`."""
    if isinstance(error, CadenceError):
        return f":warning: {error}"
    if _database_unavailable(error):
        return DATABASE_UNAVAILABLE
    if isinstance(error, SlackFailure):
        return slack_failure_message(error, channel_id=error.channel or channel_id)
    return SOMETHING_WENT_WRONG


def slack_failure_message(failure: SlackFailure, *, channel_id: str | None) -> str:
    """One line saying what the person can do when Slack refused what Cadence tried for them."""
    if failure.verdict is Verdict.UNREACHABLE:
        where = f"<#{channel_id}>" if channel_id and channel_id.startswith(("C", "G")) else "that conversation"
        if failure.error == "is_archived":
            return f":warning: {where} is archived, so Cadence can't post there. Use another channel."
        return (f":warning: Cadence can't post in {where}: invite it with `/invite @Cadence` there "
                "(or use a channel it is in), then try again.")
    if failure.verdict is Verdict.PERSON_GONE:
        return PERSON_GONE
    if failure.verdict is Verdict.RETRY_LATER:
        return SLACK_BUSY
    return SOMETHING_WENT_WRONG


def cannot_work_in(slack: Slack, *, channel_id: str) -> str | None:
    """None when Cadence is in `channel_id` (it joins a public channel it is not in); else the one line telling the
    person what to do, for a modal's inline error before anything is saved.

    It runs before the modal's ack: Slack's first answers within 2 s, never a retry's sleep; when Slack is slower,
    the modal says so and keeps what was typed."""
    try:
        slack.quick().ensure_member(channel=channel_id)
    except SlackFailure as failure:
        if failure.answer.retryable:
            return SLACK_SLOW
        if failure.verdict is not Verdict.UNREACHABLE:
            raise
        return slack_failure_message(failure, channel_id=channel_id)
    return None


def _database_unavailable(error: Exception) -> bool:
    # Down, restarting, every pooled connection busy, or a connection lost mid-query; not a constraint violation
    # or a bad query (also DBAPIErrors), which trying again would not mend.
    if isinstance(error, OperationalError | PoolTimeoutError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def handle_error(error: Exception, body: dict[str, Any], context: BoltContext) -> None:
    """Log the failure with its workspace, channel, user and listener, and tell the user in one line."""
    kind = body.get("command") or body.get("type") or "event"
    action_ids = ",".join(a.get("action_id", "") for a in body.get("actions", []) if isinstance(a, dict))
    callback_id = (body.get("view") or {}).get("callback_id", "")
    where = dict(team=context.team_id, channel=context.channel_id, user=context.user_id, listener=kind)
    if isinstance(error, CadenceError):
        log.info("refused %s: %s", kind, error, extra=where)
    elif isinstance(error, SlackFailure) and error.verdict is not Verdict.OUR_BUG:
        log.warning("Slack refused %s for %s: %s (%s)", error.method, kind, error.error, error.verdict, extra=where)
    else:
        log.error(
            "listener failed: %s %s %s: %s", kind, action_ids, callback_id, type(error).__name__, extra=where,
            exc_info=error,
        )
    _tell(body, context, user_message(error, channel_id=context.channel_id))


def _tell(body: dict[str, Any], context: BoltContext, text: str) -> None:
    if not context.get(VERIFIED):
        # Whoever sent an unverified body chose its response_url, channel and user: answering would make Cadence
        # post where they say, with its token. The edge refuses such requests; this holds should one get here.
        log.warning("did not tell anyone about the failure: the request was not verified")
        return
    try:
        response_url = body.get("response_url") or next(
            (u.get("response_url") for u in body.get("response_urls", []) if u.get("response_url")), None
        )
        if response_url:
            WebhookClient(response_url).send(text=text, response_type="ephemeral", replace_original=False)
        elif context.client is not None and context.user_id and context.get("runtime") is not None:
            slack = slack_of(context)
            if context.channel_id:
                slack.ephemeral(channel=context.channel_id, user=context.user_id, text=text)
            else:
                slack.post(channel=context.user_id, text=text)
    except (SlackFailure, OSError) as exc:
        log.warning("could not tell the user about a failure: %s", exc)


def register(app: App) -> None:
    app.error(handle_error)
