"""The App Home tab, built when opened and after a person's actions."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from zoneinfo import ZoneInfo

from slack_bolt import App, BoltContext

from bot import hooks
from bot.server.runtime import Runtime, runtime_of, slack_of
from bot.slack.gateway import Slack, SlackFailure
from bot.slack.people import profile
from bot.views.home import home_view

log = logging.getLogger("cadence.home")

PERMALINKS_KEPT = 2000  # a message's permalink never changes: remembered so that refreshing a Home costs no lookups
_permalinks: OrderedDict[tuple[str, str, str], str] = OrderedDict()
_permalinks_lock = threading.Lock()


def publish_home(runtime: Runtime, slack: Slack, *, team_id: str, user_id: str) -> None:
    """Build `user_id`'s Home from every ceremony's section and publish it (views.publish through the gateway)."""
    context = hooks.HomeContext(team_id=team_id, user_id=user_id, now=runtime.now())
    person = profile(runtime, slack, team_id=team_id, user_id=user_id)
    timezone = ZoneInfo((person.timezone if person and person.timezone else None) or runtime.settings.default_timezone)
    updated = f"{context.now.astimezone(timezone):%a %d %b, %H:%M}"
    slack.publish_home(user_id=user_id, view=home_view(hooks.home_sections(runtime, context), updated=updated))


def refresh_home(runtime: Runtime, slack: Slack | None = None, *, team_id: str, user_id: str) -> None:
    """Republish the Home of someone who just acted (answered, voted, resolved...), so that it never shows stale work.

    It runs in the background after the work others wait for (see `bot.server.background`), once for several actions in a
    row, through `slack` (the request's handle) or, without one, the workspace's (`runtime.gateway.for_team`). Their
    action already succeeded: Slack refusing the Home is logged (the gateway classified it), not reported to them.
    """
    if not team_id or not user_id:
        return
    handle = slack

    def publish() -> None:
        try:
            publish_home(runtime, handle or runtime.gateway.for_team(team_id), team_id=team_id, user_id=user_id)
        except SlackFailure as failure:
            log.warning("the Home was not refreshed (%s): %s, %s", failure.method, failure.verdict, failure.error,
                        extra={"team": team_id, "user": user_id})

    runtime.background.submit(("home", team_id, user_id), publish)


def message_link(runtime: Runtime, *, team_id: str, channel_id: str, ts: str | None) -> str | None:
    """The permalink of a message for a Home item (from chat.getPermalink, then remembered); None when unknown.

    A link is a convenience: when Slack cannot give one the item is listed without it.
    """
    if not ts:
        return None
    key = (team_id, channel_id, ts)
    with _permalinks_lock:
        if key in _permalinks:
            _permalinks.move_to_end(key)
            return _permalinks[key]
    try:
        link = runtime.gateway.for_team(team_id).permalink(channel=channel_id, ts=ts)
    except SlackFailure as failure:
        log.warning("no permalink for a Home item: %s, %s", failure.verdict, failure.error,
                    extra={"team": team_id, "channel": channel_id})
        return None
    if not link:
        return None
    with _permalinks_lock:
        _permalinks[key] = link
        while len(_permalinks) > PERMALINKS_KEPT:
            _permalinks.popitem(last=False)
    return link


def handle_home_opened(event: dict, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    publish_home(runtime_of(context), slack_of(context), team_id=context.team_id or "", user_id=event["user"])


def register(app: App) -> None:
    app.event("app_home_opened")(handle_home_opened)
