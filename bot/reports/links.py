"""Addresses of report pages: a link row's signed token under the app's public URL."""

from __future__ import annotations

import threading
import time

from bot.server.runtime import Runtime
from bot.slack.gateway import SlackFailure
from bot.slack.people import profile
from storage import digest as store
from storage import sprint as sprints


def page_url(runtime: Runtime, link: store.ReportLink) -> str:
    """The public address of a report page."""
    return f"{public_base(runtime)}/reports/{store.token_of(runtime.settings.report_key, link)}"


def public_base(runtime: Runtime) -> str:
    """CADENCE_PUBLIC_URL, or this server on localhost where none is set (development and the demo)."""
    return runtime.settings.cadence_public_url or f"http://localhost:{runtime.settings.port}"


def sprint_page_url(runtime: Runtime, *, sprint_id: int, by: str) -> str | None:
    """A live link to a sprint's report page (an existing one when it lasts another week), None when it is gone."""
    with runtime.db.transaction() as session:
        sprint = sprints.sprint_by_id(session, sprint_id=sprint_id)
        if sprint is None:
            return None
        link = store.sprint_link(session, team_id=sprint.team_id, sprint_id=sprint.id, by=by, now=runtime.now(),
                                 days=runtime.settings.report_link_days)
        return page_url(runtime, link)


CHANNEL_NAME_SECONDS = 3600.0
_lock = threading.Lock()


def _cache(runtime: Runtime) -> dict[tuple[str, str], tuple[str, float]]:
    # One cache a runtime (a process's app), not a module-wide one: two apps in one process never share names.
    with _lock:
        cache = runtime.__dict__.get("_report_channel_names")
        if cache is None:
            cache = runtime.__dict__["_report_channel_names"] = {}
        return cache


def channel_labels(runtime: Runtime, team_id: str, channel_ids: list[str]) -> dict[str, str]:
    """#channel-name for each team channel, for readers outside Slack (asked of Slack at most hourly a channel);
    #<id> when Slack will not say."""
    labels: dict[str, str] = {}
    now = time.monotonic()
    _names = _cache(runtime)
    for channel_id in channel_ids:
        with _lock:
            cached = _names.get((team_id, channel_id))
        if cached is not None and cached[1] > now:
            labels[channel_id] = cached[0]
            continue
        try:
            info = runtime.gateway.for_team(team_id).conversation_info(channel=channel_id)
            label = f"#{info['name']}" if info.get("name") else f"#{channel_id}"
        except SlackFailure:
            label = f"#{channel_id}"
        with _lock:
            _names[(team_id, channel_id)] = (label, now + CHANNEL_NAME_SECONDS)
        labels[channel_id] = label
    return labels


def people_names(runtime: Runtime, team_id: str, user_ids: list[str]) -> dict[str, str]:
    """People's display names for readers outside Slack (the profile cache, else users.info); their id otherwise."""
    names: dict[str, str] = {}
    wanted = sorted(set(user_ids))
    if not wanted:
        return names
    try:
        slack = runtime.gateway.for_team(team_id)
    except SlackFailure:
        return {user_id: user_id for user_id in wanted}
    for user_id in wanted:
        try:
            person = profile(runtime, slack, team_id=team_id, user_id=user_id)
        except SlackFailure:
            person = None
        names[user_id] = (person.name if person is not None and person.name else user_id)
    return names
