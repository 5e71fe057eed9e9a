"""The App Home tab, built when opened and after a person's actions."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot import hooks
from bot.app import runtime_of
from bot.people import profile
from bot.runtime import Runtime
from bot.views.home import home_view


def publish_home(runtime: Runtime, client: WebClient, *, team_id: str, user_id: str) -> None:
    """Build `user_id`'s Home from every ceremony's section and publish it."""
    context = hooks.HomeContext(team_id=team_id, user_id=user_id, now=runtime.now())
    person = profile(runtime, client, team_id=team_id, user_id=user_id)
    timezone = ZoneInfo((person.timezone if person and person.timezone else None) or runtime.settings.default_timezone)
    updated = f"{context.now.astimezone(timezone):%a %d %b, %H:%M}"
    client.views_publish(user_id=user_id, view=home_view(hooks.home_sections(runtime, context), updated=updated))


def handle_home_opened(event: dict, client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    publish_home(runtime_of(context), client, team_id=context.team_id or "", user_id=event["user"])


def register(app: App) -> None:
    app.event("app_home_opened")(handle_home_opened)
